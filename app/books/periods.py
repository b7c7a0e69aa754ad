"""Which period an entry belongs to on statements, close reports and exports.

An entry belongs to the calendar month it is effective in — except the entries a
settlement run posts for the period it settles (the payout, the reversal of a payout
Stripe refused, reserve moves, recoveries), which name that period in their metadata
(``meta.settles = "2026-11"``).  The run for November pays on 1 December, so its payout
is effective in December (when the money moved: cash, reconciliation, the trial
balance at a date and the annual payee totals read it so), but November's statement
shows it — "the 2026-11 run paid 700.56 USD" and a closing payable of zero, never
"700.56 USD is carried forward" beside it — and December's statement opens after it.

Money that comes back later (a transfer Stripe reverses in January) belongs to the
month it comes back in.  These helpers are SQL expressions over the entry table, for
periods that are whole calendar months.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, and_, func, or_
from sqlalchemy.sql import ColumnElement

from ledger.exports import month_of
from ledger.types import as_utc

SETTLES = "settles"


def month_name(moment: datetime) -> str:
    return f"{as_utc(moment):%Y-%m}"


def settles(entry: Table) -> ColumnElement:
    """The period an entry says it settles (NULL for ordinary entries)."""
    return entry.c.metadata[SETTLES].as_string()


def belongs_to_month(entry: Table, dialect: str) -> ColumnElement:
    """SQL for the ``YYYY-MM`` an entry belongs to."""
    return func.coalesce(settles(entry), month_of(entry.c.effective_at, dialect))


def belongs_before(entry: Table, start: datetime) -> ColumnElement:
    named = settles(entry)
    return or_(named < month_name(start), and_(named.is_(None), entry.c.effective_at < as_utc(start)))


def belongs_within(entry: Table, start: datetime, end: datetime) -> ColumnElement:
    named = settles(entry)
    return or_(
        and_(named >= month_name(start), named < month_name(end)),
        and_(named.is_(None), entry.c.effective_at >= as_utc(start), entry.c.effective_at < as_utc(end)),
    )


def belongs_after(entry: Table, end: datetime) -> ColumnElement:
    named = settles(entry)
    return or_(named >= month_name(end), and_(named.is_(None), entry.c.effective_at >= as_utc(end)))
