"""Planning a settlement run: what each creator is owed for a period, in one pass.

The ledger reports where every creator's payable and reserve account stands at the
period end (``ledger.positions``, one statement, streamed):

``balance``  the account's balance now;
``later``    what entries effective at or after the period end moved, except payouts
             and their reversals — earnings that belong to a later period;
``held``     what entries of a licence whose holdback window (``holdback_days``) has
             not elapsed at the period end moved: each entry names its licence as its
             ledger subject, and the licences with a holdback are the hold windows.

Only entries effective after ``period_end - max(holdback_days)`` are read, so a
platform's history before the window costs nothing.  Per creator and currency::

    total     = payable + reserve now (credits, as positive minor units)
    owed      = clamp(total - later earnings, 0, total)   # payable as of the period end,
                                                           # never more than what is there now
    reserve   = clamp(held, 0, owed)                       # what the holdback keeps back
    recovered = min(recoverable at the period end, owed - reserve)
                                    # what the creator owed after an earlier refund of money
                                    # already paid out, netted against these earnings
    amount    = owed - reserve - recovered                 # what this run may pay

Payouts made after the period end (a previous run's) are already out of ``total``, so
nothing is paid twice; earnings after the period end wait for the next run.  The
reserve account is brought to ``reserve`` by one hold or release entry per run, and
``recovered`` is booked by ``refund.recovered`` entries, oldest refund first
(``app.books.recoveries``) — per creator and currency, never below zero, never across
creators.

``decide`` then turns each line into an item: ``held`` when the creator cannot be paid
(``payout_status`` says why), ``below_minimum`` under the currency's minimum payout
(carried forward: the money stays payable), else ``planned``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from app.books import chart, kinds
from app.marketplace.models import licence_table
from app.payments.payout_status import PayoutStatus
from ledger import format_minor
from ledger.money import CURRENCY_EXPONENTS
from ledger.periods import InvalidPeriod as InvalidPeriod  # callers import it from here
from ledger.periods import Period as Period
from ledger.positions import positions

PURPOSES = ("payable", "reserve", "recoverable")
# entries a settlement run posts for its period (effective when it runs): not "later" earnings
SETTLING_KINDS = kinds.names(payout=True) + kinds.names(recovery=True)


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
    recovered: int = 0  # netted against what the creator owes after an earlier refund

    @property
    def amount(self) -> int:
        return self.payable - self.reserve - self.recovered

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


def plan_lines(conn: Connection, period: Period) -> list[PlanLine]:
    """Every creator and currency with something owed or reserved, for ``period``."""
    holds = select(licence_table.c.id.label("subject"), licence_table.c.holdback_days.label("days")).where(
        licence_table.c.holdback_days > 0
    )
    # per (creator, currency): [payable now, reserve now, later, held, recoverable at the end];
    # liabilities are credits (negative), the recoverable an asset (positive)
    sums: dict[tuple[int, str], list[int]] = {}
    for position in positions(
        conn,
        codes_like=[chart.codes_like("creator", purpose) for purpose in PURPOSES],
        cutoff=period.ends_at,
        settling=SETTLING_KINDS,
        holds=holds,
    ):
        account = chart.creator_account(position.code, *PURPOSES)
        if account is None:
            continue
        acc = sums.setdefault((account.owner_id, account.currency), [0, 0, 0, 0, 0])
        if account.purpose == "recoverable":
            acc[4] += position.balance - position.later
            continue
        if account.purpose == "payable":
            acc[0] -= position.balance
            acc[3] -= position.held
        else:
            acc[1] -= position.balance
        acc[2] -= position.later
    lines = []
    for (creator_id, currency), (payable_now, reserve_now, later, held, recoverable) in sorted(sums.items()):
        total = payable_now + reserve_now
        owed = min(max(total - later, 0), total)
        reserve = min(max(held, 0), owed)
        if owed == 0 and reserve == reserve_now:
            continue
        recovered = min(max(recoverable, 0), owed - reserve)
        lines.append(PlanLine(creator_id, currency, owed, reserve, reserve_now, recovered))
    return lines


def decide(lines: list[PlanLine], statuses: Mapping[int, PayoutStatus], minimums: Mapping[str, int]) -> list[Decision]:
    decisions = []
    for line in lines:
        status = statuses[line.creator_id]
        minimum = min_payout_for(line.currency, minimums)
        if line.amount == 0:
            if line.recovered and not line.reserve:
                reason = "Everything owed went to recover what you owed after an earlier refund."
            elif line.payable:
                reason = "Everything owed is held in reserve until the licence's holdback days have passed."
            else:
                reason = "Nothing to pay."
            decisions.append(Decision(line, "below_minimum", reason, None))
        elif not status.can_pay:
            decisions.append(Decision(line, "held", status.hold_reason, status.stripe_account_id))
        elif line.amount < minimum:
            decisions.append(
                Decision(
                    line,
                    "below_minimum",
                    f"Below the minimum payout of {format_minor(minimum, line.currency)} "
                    f"{line.currency}: carried forward to the next run.",
                    None,
                )
            )
        else:
            decisions.append(Decision(line, "planned", None, status.stripe_account_id))
    return decisions
