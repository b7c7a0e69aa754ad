"""The marketplace's figures over the journal: what reports, dashboards and
reconciliation read besides the generic trial balance and journal.

``payee_totals``     what the platform paid each creator in a calendar year (1099-style)
``monthly_activity`` gross sales, commission, payouts and outstanding payables per month
``creator_period``   each creator's payable over a period: opening, earned, refunds,
                     reserve, paid out, closing
``payout_groups``    payouts per Stripe transfer group (the ledger's side of reconciliation)

Each is one grouped query over the journal plus a Python pass over the grouped rows;
kinds are classified by the catalogue (``app.books.kinds``), account codes read by
the chart (``app.books.chart``).  Money stays integer minor units; frames use
``Int64`` columns.

Months are the months entries *belong* to (``app.books.periods``): a settlement run's
payout is in the period it settles, as on the creators' statements — except
``payee_totals``, which is cash (the day the transfer was made), as a tax form wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, or_, select, true
from sqlalchemy.orm import aliased

from ledger.exports import effective_within, int_frame
from ledger.models import account_table, entry_table, posting_table
from ledger.money import format_minor
from ledger.periods import Period, months

from . import chart, kinds
from .periods import belongs_before, belongs_to_month, belongs_within

PAYOUT_KIND = kinds.PAYOUT_TRANSFER.name
EARNING_KINDS = kinds.names(earning=True)
REFUND_KINDS = kinds.names(refund=True)
RESERVE_KINDS = kinds.names(reserve=True)
RECOVERY_KINDS = kinds.names(recovery=True)


# ---------------------------------------------------------------- per-payee annual totals


@dataclass(frozen=True)
class PayeeTotal:
    """What the platform paid one creator in one currency over a calendar year."""

    creator_id: int
    currency: str
    paid: int  # transfers minus reversed transfers, minor units
    transfers: int
    reversals: int


def payee_totals(conn: Connection, year: int) -> list[PayeeTotal]:
    """Per creator and currency: payout transfers effective in ``year`` minus the
    reversals of payout transfers effective in ``year`` (cash basis: a December
    transfer reversed in January lowers January's year)."""
    span = Period.year(year)
    original = aliased(entry_table)
    kind = func.coalesce(original.c.kind, entry_table.c.kind)
    query = (
        select(
            account_table.c.code,
            entry_table.c.kind,
            func.count(func.distinct(entry_table.c.seq)),
            func.sum(posting_table.c.amount),
        )
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq)
            .join(account_table, account_table.c.id == posting_table.c.account_id)
            .outerjoin(original, original.c.seq == entry_table.c.reverses_seq)
        )
        .where(
            effective_within(entry_table.c.effective_at, span),
            kind == PAYOUT_KIND,
            entry_table.c.kind.in_((PAYOUT_KIND, kinds.REVERSAL)),
            account_table.c.code.like("creator:%:payable:%"),
        )
        .group_by(account_table.c.code, entry_table.c.kind)
    )
    totals: dict[tuple[int, str], list[int]] = {}
    for code, entry_kind, count, amount in conn.execute(query):
        account = chart.creator_account(code, "payable")
        if account is None:
            continue
        row = totals.setdefault((account.owner_id, account.currency), [0, 0, 0])
        row[0] += int(amount)  # payouts debit the payable; their reversals credit it back
        row[1 if entry_kind == PAYOUT_KIND else 2] += int(count)
    return [
        PayeeTotal(cid, cur, paid, transfers, reversals)
        for (cid, cur), (paid, transfers, reversals) in sorted(totals.items())
    ]


# ---------------------------------------------------------------- monthly activity (dashboard charts)

SERIES = ("gross_sales", "commission", "payouts", "outstanding_payables")


@dataclass(frozen=True)
class MonthActivity:
    month: str
    currency: str
    gross_sales: int  # sales and uses, net of refunds and disputes, at their full price
    commission: int  # commission revenue earned in the month (net)
    payouts: int  # transfers to creators minus reversed transfers
    outstanding_payables: int  # owed to creators (payable + reserve) at the month's end


def _account_class(code: str) -> str | None:
    account = chart.parse(code)
    if account is None:
        return None
    if account.owner == "platform" and account.purpose == "revenue:commission":
        return "commission"
    if account.owner == "creator" and account.purpose in ("payable", "reserve"):
        return "owed"
    if account.owner == "creator" and account.purpose == "recoverable":
        return "recoverable"
    return None


def monthly_activity(conn: Connection, *, before: datetime) -> list[MonthActivity]:
    """Per month and currency, everything the dashboard charts: integer sums per
    (month, kind, account) in one grouped query, classified here.  A reversal counts
    as the kind it reverses (with the opposite sign, which its amounts already have)."""
    original = aliased(entry_table)
    kind = func.coalesce(original.c.kind, entry_table.c.kind).label("kind")
    month = belongs_to_month(entry_table, conn.dialect.name).label("month")
    moved = (
        select(month, kind, posting_table.c.account_id, func.sum(posting_table.c.amount).label("amount"))
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).outerjoin(
                original, original.c.seq == entry_table.c.reverses_seq
            )
        )
        .where(entry_table.c.effective_at < before)
        .group_by(month, kind, posting_table.c.account_id)
    ).subquery()
    query = select(moved.c.month, moved.c.kind, account_table.c.code, account_table.c.currency, moved.c.amount).join(
        account_table, account_table.c.id == moved.c.account_id
    )
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for month_name, entry_kind, code, currency, amount in conn.execute(query):
        cls = _account_class(code)
        if cls is None:
            continue
        amount = int(amount)
        row = sums.setdefault((month_name, currency), dict.fromkeys(("gross", "commission", "payouts", "owed"), 0))
        if entry_kind in EARNING_KINDS + REFUND_KINDS:  # the price is what creators and the platform were credited
            row["gross"] -= amount
        if cls == "commission":
            row["commission"] -= amount
        if cls == "owed":
            row["owed"] -= amount
            if entry_kind == PAYOUT_KIND:
                row["payouts"] += amount
    out: list[MonthActivity] = []
    running: dict[str, int] = {}
    for month_name, currency in sorted(sums):
        row = sums[(month_name, currency)]
        running[currency] = running.get(currency, 0) + row["owed"]
        out.append(
            MonthActivity(month_name, currency, row["gross"], row["commission"], row["payouts"], running[currency])
        )
    return _fill_gaps(out)


def _fill_gaps(rows: list[MonthActivity]) -> list[MonthActivity]:
    """Months without movement still appear (payables carried over), so charts are evenly spaced."""
    by_currency: dict[str, list[MonthActivity]] = {}
    for row in rows:
        by_currency.setdefault(row.currency, []).append(row)
    out = []
    for currency, items in sorted(by_currency.items()):
        present = {r.month: r for r in items}
        first, last = Period.parse(items[0].month), Period.parse(items[-1].month)
        carried = 0
        for month in months(first.starts_at, last.starts_at):
            row = present.get(month.name) or MonthActivity(month.name, currency, 0, 0, 0, carried)
            carried = row.outstanding_payables
            out.append(row)
    return out


def monthly_activity_frame(rows: list[MonthActivity]):
    data = [
        (
            r.month,
            r.currency,
            r.gross_sales,
            r.commission,
            r.payouts,
            r.outstanding_payables,
            *(format_minor(getattr(r, s), r.currency) for s in SERIES),
        )
        for r in rows
    ]
    return int_frame(data, ["month", "currency", *SERIES, *(f"{s}_decimal" for s in SERIES)], integers=SERIES)


# ---------------------------------------------------------------- per-creator period totals


@dataclass(frozen=True)
class CreatorPeriod:
    """One creator's payable over one period, in one currency, as the creator reads it
    (owed to them is positive): opening + earned + refunds + reserve + other − paid out
    = closing — the closing payable of the creator's statement (after the period's own
    payout run).  ``refunds`` includes earlier refunds recovered from these earnings.
    ``reserve_closing`` is what is held back for them at the period's end."""

    creator_id: int
    currency: str
    opening: int
    earned: int
    refunds: int
    reserve: int
    paid_out: int
    other: int
    closing: int
    reserve_closing: int


def creator_period(conn: Connection, period: Period, creator_id: int | None = None) -> list[CreatorPeriod]:
    """Every creator's (or one creator's) payable and reserve over ``period``, from one
    grouped query over their postings that belong to the period or before it:
    movements of earlier periods fall into the opening (kind NULL), the period's are
    grouped by kind."""
    pattern = f"creator:{creator_id}:%" if creator_id is not None else "creator:%"
    original = aliased(entry_table)
    kind = case(
        (belongs_before(entry_table, period.starts_at), None), else_=func.coalesce(original.c.kind, entry_table.c.kind)
    ).label("kind")
    query = (
        select(account_table.c.code, kind, func.sum(posting_table.c.amount))
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq)
            .join(account_table, account_table.c.id == posting_table.c.account_id)
            .outerjoin(original, original.c.seq == entry_table.c.reverses_seq)
        )
        .where(
            account_table.c.code.like(pattern),
            or_(
                belongs_before(entry_table, period.starts_at),
                belongs_within(entry_table, period.starts_at, period.ends_at),
            ),
        )
        .group_by(account_table.c.code, kind)
    )
    totals: dict[tuple[int, str], dict[str, int]] = {}
    for code, entry_kind, amount in conn.execute(query):
        account = chart.creator_account(code, "payable", "reserve")
        if account is None:
            continue  # recoverable: money the creator owes, not part of what they are owed
        row = totals.setdefault(
            (account.owner_id, account.currency),
            dict.fromkeys(("opening", "earned", "refunds", "reserve", "paid_out", "other", "reserve_closing"), 0),
        )
        owed = -int(amount)
        if account.purpose == "reserve":
            row["reserve_closing"] += owed
        elif entry_kind is None:
            row["opening"] += owed
        elif entry_kind in EARNING_KINDS:
            row["earned"] += owed
        elif entry_kind in REFUND_KINDS + RECOVERY_KINDS:
            row["refunds"] += owed
        elif entry_kind in RESERVE_KINDS:
            row["reserve"] += owed
        elif entry_kind == PAYOUT_KIND:
            row["paid_out"] -= owed
        else:
            row["other"] += owed
    out = []
    for (cid, cur), t in sorted(totals.items()):
        closing = t["opening"] + t["earned"] + t["refunds"] + t["reserve"] + t["other"] - t["paid_out"]
        out.append(
            CreatorPeriod(
                cid,
                cur,
                t["opening"],
                t["earned"],
                t["refunds"],
                t["reserve"],
                t["paid_out"],
                t["other"],
                closing,
                t["reserve_closing"],
            )
        )
    return out


CREATOR_COLUMNS = ("opening", "earned", "refunds", "reserve", "paid_out", "other", "closing", "reserve_closing")


def creator_period_frame(rows: list[CreatorPeriod]):
    data = [
        (
            r.creator_id,
            r.currency,
            *(getattr(r, c) for c in CREATOR_COLUMNS),
            *(format_minor(getattr(r, c), r.currency) for c in CREATOR_COLUMNS),
        )
        for r in rows
    ]
    return int_frame(
        data,
        ["creator_id", "currency", *CREATOR_COLUMNS, *(f"{c}_decimal" for c in CREATOR_COLUMNS)],
        integers=("creator_id", *CREATOR_COLUMNS),
    )


# ---------------------------------------------------------------- payouts per transfer group (reconciliation)


@dataclass(frozen=True)
class PayoutGroup:
    """The ledger's side of one settlement's transfers: what Stripe's transfer group should add up to."""

    transfer_group: str
    currency: str
    amount: int  # transfers minus reversed transfers
    transfers: int
    reversals: int


def payout_groups(conn: Connection, period: Period | None = None) -> list[PayoutGroup]:
    """Payout entries that belong to ``period`` (a run's payouts belong to the period it
    settles) summed per transfer group and currency; a reversal (failed or reversed
    transfer) counts in its original's group, negatively."""
    original = aliased(entry_table)
    group = func.coalesce(
        original.c.metadata["transfer_group"].as_string(), entry_table.c.metadata["transfer_group"].as_string(), ""
    ).label("group")
    kind = func.coalesce(original.c.kind, entry_table.c.kind)
    query = (
        select(group, posting_table.c.currency, entry_table.c.kind, func.count(), func.sum(posting_table.c.amount))
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).outerjoin(
                original, original.c.seq == entry_table.c.reverses_seq
            )
        )
        .where(
            true() if period is None else belongs_within(entry_table, period.starts_at, period.ends_at),
            kind == PAYOUT_KIND,
            entry_table.c.kind.in_((PAYOUT_KIND, kinds.REVERSAL)),
            posting_table.c.amount > 0,
        )
        .group_by(group, posting_table.c.currency, entry_table.c.kind)
    )
    totals: dict[tuple[str, str], list[int]] = {}
    for name, currency, entry_kind, count, amount in conn.execute(query):
        row = totals.setdefault((name, currency), [0, 0, 0])
        # a payout's debit is the creator's payable; a reversal's debit is the Stripe balance coming back
        if entry_kind == PAYOUT_KIND:
            row[0] += int(amount)
            row[1] += int(count)
        else:
            row[0] -= int(amount)
            row[2] += int(count)
    return [PayoutGroup(name, cur, *values) for (name, cur), values in sorted(totals.items())]


def payout_groups_frame(conn: Connection, period: Period | None = None):
    rows = payout_groups(conn, period)
    data = [
        (r.transfer_group, r.currency, r.amount, format_minor(r.amount, r.currency), r.transfers, r.reversals)
        for r in rows
    ]
    return int_frame(
        data,
        ["transfer_group", "currency", "amount", "amount_decimal", "transfers", "reversals"],
        integers=("amount", "transfers", "reversals"),
    )
