"""Planning a settlement run: what each creator is owed for a period, in one set-based pass.

For every creator and currency (accounts ``creator:ID:payable:CUR`` and
``creator:ID:reserve:CUR``) one SQL statement returns, from a single snapshot:

``current``  the account's balance now (``ledger_balance``: O(accounts));
``late``     postings effective at or after the period end that are *earnings*
             (anything but payouts and their reversals) — they belong to a later period;
``held``     payable credits effective in the period from entries of a licence whose
             holdback window (``mk_licence.holdback_days``) has not elapsed at the period end.

Only entries effective after ``period_end - max(holdback_days)`` are scanned (the
``effective_at`` index), not the whole journal.  From those, per creator and currency::

    total   = payable + reserve now (credits, as positive minor units)
    owed    = clamp(total - late earnings, 0, total)     # payable as of the period end,
                                                          # never more than what is there now
    reserve = clamp(held, 0, owed)                        # what the holdback keeps back
    amount  = owed - reserve                              # what this run may pay

Payouts made after the period end (a previous run's) are already out of ``total``, so
nothing is paid twice; earnings after the period end wait for the next run.  The
reserve account is brought to ``reserve`` by one hold or release entry per run.

``decide`` then turns each line into an item: ``held`` when the creator cannot be paid
(``payout_status`` says why), ``below_minimum`` under the currency's minimum payout
(carried forward: the money stays payable), else ``planned``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import Connection, text

from app.payments.payout_status import PayoutStatus
from ledger import format_minor
from ledger.money import CURRENCY_EXPONENTS
from ledger.periods import InvalidPeriod, Period  # noqa: F401 — callers import them from here
from ledger.sql import db_time

_ACCOUNT = re.compile(r"^creator:(\d+):(payable|reserve):([A-Z]{3})$")
PAYOUT_KINDS = ("payout.transfer", "payout.reversal")


def transfer_group(period: Period) -> str:
    """The Stripe ``transfer_group`` of a period's run (reconciliation finds the run's transfers by it)."""
    return f"settlement-{period.name}"


def period_before(moment: datetime) -> Period:
    """The month before the one ``moment`` falls in (what a scheduled run settles)."""
    return Period.containing(moment).previous()


@dataclass(frozen=True)
class PlanLine:
    """What one creator is owed in one currency at the period end."""

    creator_id: int
    currency: str
    payable: int  # owed as of the period end
    reserve: int  # to keep back
    current_reserve: int  # in the reserve account now

    @property
    def amount(self) -> int:
        return self.payable - self.reserve

    @property
    def reserve_move(self) -> int:
        """+ hold more, − release."""
        return self.reserve - self.current_reserve


@dataclass(frozen=True)
class Decision:
    line: PlanLine
    status: str  # planned | held | below_minimum
    hold_reason: str | None
    destination: str | None


def min_payout_for(currency: str, minimums: Mapping[str, int]) -> int:
    """The configured minimum, else ten major units of the currency."""
    return minimums.get(currency, 10 * 10 ** CURRENCY_EXPONENTS.get(currency, 2))


def _window_open(dialect: str) -> str:
    if dialect == "postgresql":
        return "e.effective_at > CAST(:period_end AS timestamptz) - l.holdback_days * INTERVAL '1 day'"
    return "julianday(e.effective_at) + l.holdback_days > julianday(:period_end)"


def _licence_id_text(dialect: str) -> str:
    """The entry's ``licence_id`` metadata as text (one JSON read per row; never a cast error)."""
    if dialect == "postgresql":
        return "e.metadata ->> 'licence_id'"
    return "CAST(json_extract(e.metadata, '$.licence_id') AS TEXT)"


def plan_sql(dialect: str) -> str:
    kinds = ", ".join(f"'{k}'" for k in PAYOUT_KINDS)
    # CASE arms are evaluated in order, so the reversed entry's kind is looked up only for
    # late reversals, and the licence only matters for entries inside the period.
    return f"""
WITH acc AS (
    SELECT id, code FROM ledger_account
    WHERE code LIKE 'creator:%:payable:___' OR code LIKE 'creator:%:reserve:___'
), creator_postings AS MATERIALIZED (  -- the creators' postings only, before any JSON is read
    SELECT p.account_id, p.entry_seq, p.amount FROM ledger_posting p JOIN acc ON acc.id = p.account_id
), bal AS (
    SELECT b.account_id, SUM(b.amount) AS amount
    FROM ledger_balance b JOIN acc ON acc.id = b.account_id
    GROUP BY b.account_id
), recent AS (
    SELECT p.account_id,
           SUM(CASE WHEN e.effective_at < :period_end THEN 0
                    WHEN e.reverses_seq IS NULL THEN CASE WHEN e.kind IN ({kinds}) THEN 0 ELSE p.amount END
                    WHEN (SELECT o.kind FROM ledger_entry o WHERE o.seq = e.reverses_seq) IN ({kinds}) THEN 0
                    ELSE p.amount END) AS late,
           SUM(CASE WHEN e.effective_at < :period_end AND l.id IS NOT NULL AND {_window_open(dialect)}
                    THEN p.amount ELSE 0 END) AS held
    FROM creator_postings p
    JOIN ledger_entry e ON e.seq = p.entry_seq
    LEFT JOIN mk_licence l ON CAST(l.id AS TEXT) = {_licence_id_text(dialect)}
    WHERE e.effective_at >= :window_start
    GROUP BY p.account_id
)
SELECT acc.code, COALESCE(bal.amount, 0) AS current, COALESCE(recent.late, 0) AS late,
       COALESCE(recent.held, 0) AS held
FROM acc
LEFT JOIN bal ON bal.account_id = acc.id
LEFT JOIN recent ON recent.account_id = acc.id
WHERE COALESCE(bal.amount, 0) <> 0 OR recent.account_id IS NOT NULL
"""


def plan_lines(conn: Connection, period: Period) -> list[PlanLine]:
    """Every creator and currency with something owed or reserved, for ``period``."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # The correlated lookup of reversed entries inflates the cost estimate past
        # jit_above_cost; compiling the query would take longer than running it.
        conn.execute(text("SET LOCAL jit = off"))
    max_holdback = conn.execute(text("SELECT COALESCE(MAX(holdback_days), 0) FROM mk_licence")).scalar_one()
    window_start = period.ends_at - timedelta(days=int(max_holdback))
    rows = conn.execute(text(plan_sql(dialect)), {
        "period_end": db_time(period.ends_at, dialect), "window_start": db_time(window_start, dialect)})
    # per (creator, currency): [payable now, reserve now, late, held]; liabilities are credits (negative)
    sums: dict[tuple[int, str], list[int]] = {}
    for code, current, late, held in rows:
        match = _ACCOUNT.match(code)
        if match is None:
            continue
        key = (int(match[1]), match[3])
        acc = sums.setdefault(key, [0, 0, 0, 0])
        if match[2] == "payable":
            acc[0] -= int(current)
            acc[3] -= int(held)
        else:
            acc[1] -= int(current)
        acc[2] -= int(late)
    lines = []
    for (creator_id, currency), (payable_now, reserve_now, late, held) in sorted(sums.items()):
        total = payable_now + reserve_now
        owed = min(max(total - late, 0), total)
        reserve = min(max(held, 0), owed)
        if owed == 0 and reserve == reserve_now:
            continue
        lines.append(PlanLine(creator_id, currency, owed, reserve, reserve_now))
    return lines


def decide(lines: list[PlanLine], statuses: Mapping[int, PayoutStatus],
           minimums: Mapping[str, int]) -> list[Decision]:
    decisions = []
    for line in lines:
        status = statuses[line.creator_id]
        minimum = min_payout_for(line.currency, minimums)
        if line.amount == 0:
            reason = ("Everything owed is held in reserve until the licence's holdback days have passed."
                      if line.payable else "Nothing to pay.")
            decisions.append(Decision(line, "below_minimum", reason, None))
        elif not status.can_pay:
            decisions.append(Decision(line, "held", status.hold_reason, status.stripe_account_id))
        elif line.amount < minimum:
            decisions.append(Decision(line, "below_minimum",
                                      f"Below the minimum payout of {format_minor(minimum, line.currency)} "
                                      f"{line.currency}: carried forward to the next run.", None))
        else:
            decisions.append(Decision(line, "planned", None, status.stripe_account_id))
    return decisions
