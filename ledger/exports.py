"""The book as data other tools read: tables of the journal (pandas frames, which the
application writes as CSV, XLSX or Parquet) and Beancount.

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
  ``member:42:payable:USD`` is ``Liabilities:Member:M42:Payable:USD``; every
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

Nothing here knows about the application that keeps the book: it adds its own tables
(and names, and payment-provider ids) next to these.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Optional

from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from . import reports
from .models import account_table, entry_table, posting_table
from .money import format_minor
from .periods import Period, months

if TYPE_CHECKING:
    import pandas as pd  # imported where a frame is built: exports are rare, pandas is heavy

# ---------------------------------------------------------------- periods


def effective_within(column: ColumnElement[datetime], period: Period | None) -> ColumnElement[bool]:
    if period is None:
        return true()
    return and_(column >= period.starts_at, column < period.ends_at)


def month_of(column: ColumnElement[datetime], dialect: str) -> ColumnElement[str]:
    """SQL for the ``YYYY-MM`` of a UTC timestamp column (SQLite keeps naive UTC text)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)


# ---------------------------------------------------------------- table frames


def int_frame(rows: Sequence[Sequence[Any]], columns: list[str], integers: Iterable[str] = ()) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(dict.fromkeys(integers, "Int64"))


def _utc(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    import pandas as pd

    for name in columns:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def entries_frame(conn: Connection, period: Period | None = None) -> pd.DataFrame:
    """One row per journal entry (in ``seq`` order) effective in ``period``."""
    query = (
        select(
            entry_table.c.seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.posted_at,
            entry_table.c.memo,
            entry_table.c.reverses_seq,
            entry_table.c.metadata,
        )
        .where(effective_within(entry_table.c.effective_at, period))
        .order_by(entry_table.c.seq)
    )
    rows = [
        (seq, key, kind, eff, posted, memo, rev, json.dumps(meta or {}, sort_keys=True, separators=(",", ":")))
        for seq, key, kind, eff, posted, memo, rev, meta in conn.execute(query)
    ]
    frame = int_frame(
        rows,
        ["seq", "key", "kind", "effective_at", "posted_at", "memo", "reverses_seq", "meta"],
        integers=("seq", "reverses_seq"),
    )
    return _utc(frame, "effective_at", "posted_at")


def postings_frame(conn: Connection, period: Period | None = None) -> pd.DataFrame:
    """One row per posting, with its entry's seq/key/kind/effective time and its account."""
    query = (
        select(
            posting_table.c.id,
            posting_table.c.entry_seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            account_table.c.code,
            account_table.c.type,
            posting_table.c.currency,
            posting_table.c.amount,
        )
        .join(entry_table, entry_table.c.seq == posting_table.c.entry_seq)
        .join(account_table, account_table.c.id == posting_table.c.account_id)
        .where(effective_within(entry_table.c.effective_at, period))
        .order_by(posting_table.c.entry_seq, posting_table.c.id)
    )
    rows = [(*row, format_minor(int(row[-1]), row[-2])) for row in conn.execute(query)]
    frame = int_frame(
        rows,
        [
            "posting_id",
            "entry_seq",
            "entry_key",
            "entry_kind",
            "effective_at",
            "account",
            "account_type",
            "currency",
            "amount",
            "amount_decimal",
        ],
        integers=("posting_id", "entry_seq", "amount"),
    )
    return _utc(frame, "effective_at")


def balances_frame(rows: Iterable[reports.AccountBalance]) -> pd.DataFrame:
    """Accounts with their debit or credit and signed balance (a trial balance's rows)."""
    data = [
        (
            r.code,
            r.name,
            r.type,
            r.currency,
            r.debit,
            r.credit,
            r.amount,
            format_minor(r.debit, r.currency),
            format_minor(r.credit, r.currency),
            format_minor(r.amount, r.currency),
        )
        for r in rows
    ]
    return int_frame(
        data,
        [
            "account",
            "name",
            "type",
            "currency",
            "debit",
            "credit",
            "balance",
            "debit_decimal",
            "credit_decimal",
            "balance_decimal",
        ],
        integers=("debit", "credit", "balance"),
    )


def trial_balance_frame(conn: Connection, before: datetime | None = None) -> pd.DataFrame:
    """Every account's debit or credit at ``before`` (None: now), signed balance alongside."""
    return balances_frame(reports.trial_balance(conn, before=before).rows)


# A table for export: (connection, period or None) → DataFrame.  The app extends this
# mapping with tables whose data lives outside the ledger (statements, reconciliation).
TableBuilder = Callable[[Connection, Optional[Period]], "pd.DataFrame"]
LEDGER_TABLES: Mapping[str, TableBuilder] = {
    "entries": entries_frame,
    "postings": postings_frame,
    "trial-balance": lambda conn, period: trial_balance_frame(conn, period.ends_at if period else None),
}


# ---------------------------------------------------------------- Beancount

BEANCOUNT_ROOTS = {
    "asset": "Assets",
    "liability": "Liabilities",
    "revenue": "Income",
    "expense": "Expenses",
    "equity": "Equity",
}


def beancount_account(code: str, account_type: str) -> str:
    """``member:42:payable:USD`` (liability) → ``Liabilities:Member:M42:Payable:USD``."""
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
    return instant.astimezone(UTC).date()


def write_beancount(conn: Connection, out: IO[str], *, period: Period | None = None, title: str = "Ledger") -> int:
    """Write the book (or one period) as a Beancount file; returns the transactions written."""
    accounts = {
        row.id: row
        for row in conn.execute(
            select(account_table.c.id, account_table.c.code, account_table.c.type, account_table.c.currency).order_by(
                account_table.c.code
            )
        )
    }
    names = {a.id: beancount_account(a.code, a.type) for a in accounts.values()}
    if len(set(names.values())) != len(names):
        raise ValueError("two account codes map to one Beancount account name")
    by_code = {a.code: names[a.id] for a in accounts.values()}

    if period is not None:
        first, last = period.starts_at, period.ends_at - timedelta(microseconds=1)
    else:
        first, last = conn.execute(
            select(func.min(entry_table.c.effective_at), func.max(entry_table.c.effective_at))
        ).one()
    out.write(f'option "title" {_quoted(title + (f" {period.name}" if period else ""))}\n')
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


# (seq, key, kind, effective_at, memo, reverses_seq) and [(account id, amount, currency)]
EntryHead = tuple[int, str, str, datetime, str, Optional[int]]
PostingLine = tuple[int, int, str]


def _entries_with_postings(conn: Connection, period: Period | None) -> Iterator[tuple[EntryHead, list[PostingLine]]]:
    """Entries in (effective time, seq) order with their postings, streamed."""
    query = (
        select(
            entry_table.c.seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.memo,
            entry_table.c.reverses_seq,
            posting_table.c.account_id,
            posting_table.c.amount,
            posting_table.c.currency,
        )
        .join(posting_table, posting_table.c.entry_seq == entry_table.c.seq)
        .where(effective_within(entry_table.c.effective_at, period))
        .order_by(entry_table.c.effective_at, entry_table.c.seq, posting_table.c.id)
    )
    current: EntryHead | None = None
    lines: list[PostingLine] = []
    for row in conn.execute(query.execution_options(yield_per=10_000)):
        head: EntryHead = (row[0], row[1], row[2], row[3], row[4], row[5])
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
