"""The book as files other tools read: tables (CSV, XLSX, Parquet) and Beancount.

Tables are pandas frames built straight from the journal.  Money stays an integer
count of minor units in nullable ``Int64`` columns, next to a ``*_decimal`` text
column formatted with the currency's exponent (``ledger.money.format_minor``) for
people and spreadsheets; no float ever holds an amount.  Times are UTC.

Periods are calendar months, half-open like ``ledger.reports``: ``2026-10`` is
[2026-10-01T00:00Z, 2026-11-01T00:00Z).  ``None`` means the whole book.

Beancount (v3 syntax, checked by ``bean-check`` in the tests):

* each account becomes ``Root:Path:CUR`` with the root taken from its type
  (asset → Assets, liability → Liabilities, revenue → Income, expense → Expenses,
  equity → Equity) and numeric ids prefixed by their owner's initial, so
  ``creator:42:payable:USD`` is ``Liabilities:Creator:C42:Payable:USD``; every
  account is opened, restricted to its currency, on the first day exported;
* each entry is a transaction dated by its UTC effective day, its postings the
  ledger's signed amounts as they are (debits positive, Beancount's convention too),
  with ``seq``, ``key`` and ``kind`` (and ``reverses``) as metadata;
* a period export starts with one "opening balances" transaction carrying every
  account's balance before the period (the book balances per currency, so that
  transaction does too);
* after every month end (dated the 1st of the next month, which Beancount checks
  before that day's transactions) a ``balance`` assertion per account states the
  ledger's balance at that instant, taken from ``ledger.reports.balances``, with an
  explicit tolerance of zero (``~ 0``: Beancount would otherwise accept a difference of
  one minor unit) — so ``bean-check`` proves the exported transactions add up to the book.

Nothing here knows about the app: the app adds names and Stripe ids to the per-payee
totals, and plugs further tables (statements, reconciliation) in by name.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping, Optional

from sqlalchemy import Connection, and_, case, func, select, true
from sqlalchemy.orm import aliased

from . import reports
from .models import Account, Entry, Posting
from .money import format_minor
from .periods import Period, months

entry_t, posting_t, account_t = Entry.__table__, Posting.__table__, Account.__table__

TABLE_FORMATS = ("csv", "xlsx", "parquet")
FORMATS = (*TABLE_FORMATS, "beancount")
PAYOUT_KIND = "payout.transfer"
SALE_KINDS = ("licence.sale", "usage.royalty")
REFUND_KINDS = ("licence.refund", "licence.dispute")


# ---------------------------------------------------------------- periods

def effective_within(column, period: Period | None):
    if period is None:
        return true()
    return and_(column >= period.starts_at, column < period.ends_at)


def month_of(column, dialect: str):
    """SQL for the ``YYYY-MM`` of a UTC timestamp column (SQLite keeps naive UTC text)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)


# ---------------------------------------------------------------- table frames


def int_frame(rows: list[tuple], columns: list[str], integers: Iterable[str] = ()):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({name: "Int64" for name in integers})


def _utc(frame, *columns: str):
    import pandas as pd

    for name in columns:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def entries_frame(conn: Connection, period: Period | None = None):
    """One row per journal entry (in ``seq`` order) effective in ``period``."""
    query = (select(entry_t.c.seq, entry_t.c.idempotency_key, entry_t.c.kind, entry_t.c.effective_at,
                    entry_t.c.posted_at, entry_t.c.memo, entry_t.c.reverses_seq, entry_t.c.metadata)
             .where(effective_within(entry_t.c.effective_at, period)).order_by(entry_t.c.seq))
    rows = [(seq, key, kind, eff, posted, memo, rev, json.dumps(meta or {}, sort_keys=True, separators=(",", ":")))
            for seq, key, kind, eff, posted, memo, rev, meta in conn.execute(query)]
    frame = int_frame(rows, ["seq", "key", "kind", "effective_at", "posted_at", "memo", "reverses_seq", "meta"],
                   integers=("seq", "reverses_seq"))
    return _utc(frame, "effective_at", "posted_at")


def postings_frame(conn: Connection, period: Period | None = None):
    """One row per posting, with its entry's seq/key/kind/effective time and its account."""
    query = (select(posting_t.c.id, posting_t.c.entry_seq, entry_t.c.idempotency_key, entry_t.c.kind,
                    entry_t.c.effective_at, account_t.c.code, account_t.c.type, posting_t.c.currency,
                    posting_t.c.amount)
             .join(entry_t, entry_t.c.seq == posting_t.c.entry_seq)
             .join(account_t, account_t.c.id == posting_t.c.account_id)
             .where(effective_within(entry_t.c.effective_at, period))
             .order_by(posting_t.c.entry_seq, posting_t.c.id))
    rows = [(*row, format_minor(int(row[-1]), row[-2])) for row in conn.execute(query)]
    frame = int_frame(rows, ["posting_id", "entry_seq", "entry_key", "entry_kind", "effective_at", "account",
                          "account_type", "currency", "amount", "amount_decimal"],
                   integers=("posting_id", "entry_seq", "amount"))
    return _utc(frame, "effective_at")


def balances_frame(rows: Iterable[reports.AccountBalance]):
    """Accounts with their debit or credit and signed balance (a trial balance's rows)."""
    data = [(r.code, r.name, r.type, r.currency, r.debit, r.credit, r.amount, format_minor(r.debit, r.currency),
             format_minor(r.credit, r.currency), format_minor(r.amount, r.currency)) for r in rows]
    return int_frame(data, ["account", "name", "type", "currency", "debit", "credit", "balance",
                            "debit_decimal", "credit_decimal", "balance_decimal"],
                     integers=("debit", "credit", "balance"))


def trial_balance_frame(conn: Connection, before: datetime | None = None):
    """Every account's debit or credit at ``before`` (None: now), signed balance alongside."""
    return balances_frame(reports.trial_balance(conn, before=before).rows)


# A table for export: (connection, period or None) → DataFrame.  The app extends this
# mapping with tables whose data lives outside the ledger (statements, reconciliation).
TableBuilder = Callable[[Connection, Optional[Period]], object]
LEDGER_TABLES: Mapping[str, TableBuilder] = {
    "entries": entries_frame,
    "postings": postings_frame,
    "trial-balance": lambda conn, period: trial_balance_frame(conn, period.ends_at if period else None),
    "payouts": lambda conn, period: payout_groups_frame(conn, period),
}


# ---------------------------------------------------------------- writers


def _for_spreadsheet(frame):
    """openpyxl refuses time-zone-aware datetimes: write them as naive UTC."""
    frame = frame.copy()
    for name in frame.columns:
        if hasattr(frame[name].dtype, "tz") and frame[name].dtype.tz is not None:
            frame[name] = frame[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def table_bytes(frame, fmt: str) -> bytes:
    """One table as a CSV or Parquet file."""
    if fmt == "csv":
        return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ").encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, engine="pyarrow")
        return buffer.getvalue()
    raise ValueError(f"{fmt!r} is not a single-table format (csv, parquet)")


def write_xlsx(tables: Mapping[str, object], out: IO[bytes] | Path) -> None:
    """One workbook, one sheet per table (sheet names are the table names)."""
    import pandas as pd

    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in tables.items():
            _for_spreadsheet(frame).to_excel(writer, sheet_name=name[:31], index=False)


def write_zip(tables: Mapping[str, object], fmt: str, out: IO[bytes] | Path) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables.items():
            archive.writestr(f"{name}.{fmt}", table_bytes(frame, fmt))


def write_tables(tables: Mapping[str, object], fmt: str, out: Path) -> list[Path]:
    """Write ``tables`` to ``out``: an ``.xlsx`` workbook, a ``.zip`` of CSV/Parquet files,
    or a directory of them (created if missing).  Returns the files written."""
    out = Path(out)
    if fmt == "xlsx":
        write_xlsx(tables, out)
        return [out]
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown table format {fmt!r}")
    if out.suffix == ".zip":
        write_zip(tables, fmt, out)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        path.write_bytes(table_bytes(frame, fmt))
        written.append(path)
    return written


# ---------------------------------------------------------------- Beancount

BEANCOUNT_ROOTS = {"asset": "Assets", "liability": "Liabilities", "revenue": "Income", "expense": "Expenses",
                   "equity": "Equity"}


def beancount_account(code: str, account_type: str) -> str:
    """``creator:42:payable:USD`` (liability) → ``Liabilities:Creator:C42:Payable:USD``."""
    parts, previous = [BEANCOUNT_ROOTS[account_type]], "N"
    for part in code.split(":"):
        if part.isdigit():
            component = previous[:1].upper() + part
        else:
            component = re.sub(r"[^A-Za-z0-9-]", "-", part) or "X"
            component = component[:1].upper() + component[1:]
            if not component[0].isalnum():
                component = "X" + component
            previous = part
        parts.append(component)
    return ":".join(parts)


def _quoted(text: str) -> str:
    return '"' + " ".join(str(text).split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _day(instant: datetime) -> date:
    return instant.astimezone(timezone.utc).date()


def write_beancount(conn: Connection, out: IO[str], *, period: Period | None = None,
                    title: str = "Cameo Exchange ledger") -> int:
    """Write the book (or one period) as a Beancount file; returns the transactions written."""
    accounts = {row.id: row for row in conn.execute(
        select(account_t.c.id, account_t.c.code, account_t.c.type, account_t.c.currency).order_by(account_t.c.code))}
    names = {a.id: beancount_account(a.code, a.type) for a in accounts.values()}
    if len(set(names.values())) != len(names):
        raise ValueError("two account codes map to one Beancount account name")
    by_code = {a.code: names[a.id] for a in accounts.values()}

    if period is not None:
        first, last = period.starts_at, period.ends_at - timedelta(microseconds=1)
    else:
        first, last = conn.execute(select(func.min(entry_t.c.effective_at), func.max(entry_t.c.effective_at))).one()
    out.write(f"option \"title\" {_quoted(title + (f' {period.name}' if period else ''))}\n")
    out.write('option "booking_method" "STRICT"\n\n')
    if first is None:  # an empty book: the accounts alone
        return 0
    opened = _day(first)
    for account_id, account in accounts.items():
        out.write(f"{opened.isoformat()} open {names[account_id]} {account.currency}\n")
    out.write("\n")

    if period is not None:
        opening = [b for b in reports.balances(conn, before=period.starts_at) if b.amount]
        if opening:
            out.write(f"{opened.isoformat()} * {_quoted(f'Opening balances before {period.name}')}\n")
            for b in opening:
                out.write(f"  {by_code[b.code]}  {format_minor(b.amount, b.currency)} {b.currency}\n")
            out.write("\n")

    written = 0
    for entry, lines in _entries_with_postings(conn, period):
        seq, key, kind, effective_at, memo, reverses_seq = entry
        out.write(f"{_day(effective_at).isoformat()} * {_quoted(memo or kind)}\n")
        out.write(f"  seq: {seq}\n  key: {_quoted(key)}\n  kind: {_quoted(kind)}\n")
        if reverses_seq is not None:
            out.write(f"  reverses: {reverses_seq}\n")
        for account_id, amount, currency in lines:
            out.write(f"  {names[account_id]}  {format_minor(amount, currency)} {currency}\n")
        out.write("\n")
        written += 1

    for month in months(first, last):
        asserted = _day(month.ends_at).isoformat()
        out.write(f"; balances at the end of {month.name}\n")
        for b in reports.balances(conn, before=month.ends_at):
            out.write(f"{asserted} balance {by_code[b.code]}  {format_minor(b.amount, b.currency)} ~ 0 {b.currency}\n")
        out.write("\n")
    return written


def _entries_with_postings(conn: Connection, period: Period | None) -> Iterator[tuple[tuple, list[tuple]]]:
    """Entries in (effective time, seq) order with their postings, streamed."""
    query = (select(entry_t.c.seq, entry_t.c.idempotency_key, entry_t.c.kind, entry_t.c.effective_at,
                    entry_t.c.memo, entry_t.c.reverses_seq, posting_t.c.account_id, posting_t.c.amount,
                    posting_t.c.currency)
             .join(posting_t, posting_t.c.entry_seq == entry_t.c.seq)
             .where(effective_within(entry_t.c.effective_at, period))
             .order_by(entry_t.c.effective_at, entry_t.c.seq, posting_t.c.id))
    current, lines = None, []
    for row in conn.execution_options(yield_per=10_000).execute(query):
        head = tuple(row[:6])
        if current is not None and head[0] != current[0]:
            yield current, lines
            lines = []
        current = head
        lines.append((row[6], int(row[7]), row[8]))
    if current is not None:
        yield current, lines


def beancount_text(conn: Connection, *, period: Period | None = None) -> str:
    buffer = io.StringIO()
    write_beancount(conn, buffer, period=period)
    return buffer.getvalue()


# ---------------------------------------------------------------- per-payee annual totals

_PAYABLE = re.compile(r"creator:(\d+):payable:([A-Z]{3})")


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
    original = aliased(entry_t)
    kind = func.coalesce(original.c.kind, entry_t.c.kind)
    query = (select(account_t.c.code, entry_t.c.kind, func.count(func.distinct(entry_t.c.seq)),
                    func.sum(posting_t.c.amount))
             .select_from(posting_t.join(entry_t, entry_t.c.seq == posting_t.c.entry_seq)
                          .join(account_t, account_t.c.id == posting_t.c.account_id)
                          .outerjoin(original, original.c.seq == entry_t.c.reverses_seq))
             .where(effective_within(entry_t.c.effective_at, span), kind == PAYOUT_KIND,
                    entry_t.c.kind.in_((PAYOUT_KIND, "reversal")), account_t.c.code.like("creator:%:payable:%"))
             .group_by(account_t.c.code, entry_t.c.kind))
    totals: dict[tuple[int, str], list[int]] = {}
    for code, entry_kind, count, amount in conn.execute(query):
        match = _PAYABLE.fullmatch(code)
        if not match:
            continue
        row = totals.setdefault((int(match[1]), match[2]), [0, 0, 0])
        row[0] += int(amount)  # payouts debit the payable; their reversals credit it back
        row[1 if entry_kind == PAYOUT_KIND else 2] += int(count)
    return [PayeeTotal(cid, cur, paid, transfers, reversals)
            for (cid, cur), (paid, transfers, reversals) in sorted(totals.items())]


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
    if code.startswith("platform:revenue:commission:"):
        return "commission"
    if re.fullmatch(r"creator:\d+:(payable|reserve):[A-Z]{3}", code):
        return "owed"
    if re.fullmatch(r"creator:\d+:recoverable:[A-Z]{3}", code):
        return "recoverable"
    return None


def monthly_activity(conn: Connection, *, before: datetime) -> list[MonthActivity]:
    """Per month and currency, everything the dashboard charts: integer sums per
    (month, kind, account) in one grouped query, classified here.  A reversal counts
    as the kind it reverses (with the opposite sign, which its amounts already have)."""
    original = aliased(entry_t)
    kind = func.coalesce(original.c.kind, entry_t.c.kind).label("kind")
    month = month_of(entry_t.c.effective_at, conn.dialect.name).label("month")
    moved = (select(month, kind, posting_t.c.account_id, func.sum(posting_t.c.amount).label("amount"))
             .select_from(posting_t.join(entry_t, entry_t.c.seq == posting_t.c.entry_seq)
                          .outerjoin(original, original.c.seq == entry_t.c.reverses_seq))
             .where(entry_t.c.effective_at < before)
             .group_by(month, kind, posting_t.c.account_id)).subquery()
    query = (select(moved.c.month, moved.c.kind, account_t.c.code, account_t.c.currency, moved.c.amount)
             .join(account_t, account_t.c.id == moved.c.account_id))
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for month_name, entry_kind, code, currency, amount in conn.execute(query):
        cls = _account_class(code)
        if cls is None:
            continue
        amount = int(amount)
        row = sums.setdefault((month_name, currency), dict.fromkeys(("gross", "commission", "payouts", "owed"), 0))
        if entry_kind in SALE_KINDS + REFUND_KINDS:  # the price is what creators and the platform were credited
            row["gross"] -= amount
        if cls == "commission":
            row["commission"] -= amount
        if cls == "owed":
            row["owed"] -= amount
            if entry_kind == PAYOUT_KIND:
                row["payouts"] += amount
    out, running = [], {}
    for month_name, currency in sorted(sums):
        row = sums[(month_name, currency)]
        running[currency] = running.get(currency, 0) + row["owed"]
        out.append(MonthActivity(month_name, currency, row["gross"], row["commission"], row["payouts"],
                                 running[currency]))
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
    data = [(r.month, r.currency, r.gross_sales, r.commission, r.payouts, r.outstanding_payables,
             *(format_minor(getattr(r, s), r.currency) for s in SERIES)) for r in rows]
    return int_frame(data, ["month", "currency", *SERIES, *(f"{s}_decimal" for s in SERIES)], integers=SERIES)


# ---------------------------------------------------------------- per-creator period totals

RESERVE_KINDS = ("reserve.hold", "reserve.release")


@dataclass(frozen=True)
class CreatorPeriod:
    """One creator's payable over one period, in one currency, as the creator reads it
    (owed to them is positive): opening + earned + refunds + reserve + other − paid out
    = closing.  ``reserve_closing`` is what is held back for them at the period's end."""

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


_CREATOR_ACCOUNT = re.compile(r"creator:(\d+):(payable|reserve):([A-Z]{3})")


def creator_period(conn: Connection, period: Period, creator_id: int | None = None) -> list[CreatorPeriod]:
    """Every creator's (or one creator's) payable and reserve over ``period``, from one
    grouped query over their postings up to the period's end: movements before the
    period fall into the opening (kind NULL), those inside it are grouped by kind."""
    pattern = f"creator:{creator_id}:%" if creator_id is not None else "creator:%"
    original = aliased(entry_t)
    kind = case((entry_t.c.effective_at >= period.starts_at, func.coalesce(original.c.kind, entry_t.c.kind)),
                else_=None).label("kind")
    query = (select(account_t.c.code, kind, func.sum(posting_t.c.amount))
             .select_from(posting_t.join(entry_t, entry_t.c.seq == posting_t.c.entry_seq)
                          .join(account_t, account_t.c.id == posting_t.c.account_id)
                          .outerjoin(original, original.c.seq == entry_t.c.reverses_seq))
             .where(account_t.c.code.like(pattern), entry_t.c.effective_at < period.ends_at)
             .group_by(account_t.c.code, kind))
    totals: dict[tuple[int, str], dict[str, int]] = {}
    for code, entry_kind, amount in conn.execute(query):
        match = _CREATOR_ACCOUNT.fullmatch(code)
        if not match:
            continue  # recoverable: money the creator owes, not part of what they are owed
        row = totals.setdefault((int(match[1]), match[3]), dict.fromkeys(
            ("opening", "earned", "refunds", "reserve", "paid_out", "other", "reserve_closing"), 0))
        owed = -int(amount)
        if match[2] == "reserve":
            row["reserve_closing"] += owed
        elif entry_kind is None:
            row["opening"] += owed
        elif entry_kind in SALE_KINDS:
            row["earned"] += owed
        elif entry_kind in REFUND_KINDS:
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
        out.append(CreatorPeriod(cid, cur, t["opening"], t["earned"], t["refunds"], t["reserve"], t["paid_out"],
                                 t["other"], closing, t["reserve_closing"]))
    return out


CREATOR_COLUMNS = ("opening", "earned", "refunds", "reserve", "paid_out", "other", "closing", "reserve_closing")


def creator_period_frame(rows: list[CreatorPeriod]):
    data = [(r.creator_id, r.currency, *(getattr(r, c) for c in CREATOR_COLUMNS),
             *(format_minor(getattr(r, c), r.currency) for c in CREATOR_COLUMNS)) for r in rows]
    return int_frame(data, ["creator_id", "currency", *CREATOR_COLUMNS, *(f"{c}_decimal" for c in CREATOR_COLUMNS)],
                  integers=("creator_id", *CREATOR_COLUMNS))


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
    """Payout entries effective in ``period`` summed per transfer group and currency; a
    reversal (failed or reversed transfer) counts in its original's group, negatively."""
    original = aliased(entry_t)
    group = func.coalesce(original.c.metadata["transfer_group"].as_string(),
                          entry_t.c.metadata["transfer_group"].as_string(), "").label("group")
    kind = func.coalesce(original.c.kind, entry_t.c.kind)
    query = (select(group, posting_t.c.currency, entry_t.c.kind, func.count(), func.sum(posting_t.c.amount))
             .select_from(posting_t.join(entry_t, entry_t.c.seq == posting_t.c.entry_seq)
                          .outerjoin(original, original.c.seq == entry_t.c.reverses_seq))
             .where(effective_within(entry_t.c.effective_at, period), kind == PAYOUT_KIND,
                    entry_t.c.kind.in_((PAYOUT_KIND, "reversal")), posting_t.c.amount > 0)
             .group_by(group, posting_t.c.currency, entry_t.c.kind))
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
    data = [(r.transfer_group, r.currency, r.amount, format_minor(r.amount, r.currency), r.transfers, r.reversals)
            for r in rows]
    return int_frame(data, ["transfer_group", "currency", "amount", "amount_decimal", "transfers", "reversals"],
                     integers=("amount", "transfers", "reversals"))
