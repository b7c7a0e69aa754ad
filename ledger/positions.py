"""Where a group of accounts stands at a cut-off — the read a payout run plans from.

For every account whose code matches one of ``codes_like`` and has a balance or moved
recently, ``positions`` gives, from one statement (one snapshot):

``balance``  the account's balance now (its maintained balance rows);
``later``    what entries effective at or after the cut-off moved, except the
             ``settling`` kinds and reversals of them (payouts already out of the
             balance are not "later earnings");
``held``     what entries effective before the cut-off moved while still inside their
             subject's hold window: ``holds`` is a selectable of (subject, days) — an
             entry of a subject with a hold of N days, effective after ``cutoff - N
             days``, is held.

Only entries effective after ``cutoff - max(days)`` are read (the ``effective_at``
index), so history before that window costs nothing.  Rows are streamed (a server-side
cursor on PostgreSQL): memory does not grow with the number of accounts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from .models import account_table, balance_table, entry_table, posting_table
from .types import as_utc

STREAM_ROWS = 10_000


@dataclass(frozen=True)
class Position:
    code: str
    currency: str
    balance: int
    later: int
    held: int


def positions(
    conn: Connection,
    *,
    codes_like: Sequence[str],
    cutoff: datetime,
    settling: Sequence[str] = (),
    holds: Select[*tuple[Any, ...]] | None = None,
) -> Iterator[Position]:
    """The positions at ``cutoff`` of the accounts matching ``codes_like`` (SQL LIKE patterns)."""
    cutoff = as_utc(cutoff)
    hold = holds.subquery("hold") if holds is not None else None
    longest = 0
    if hold is not None:
        longest = int(conn.execute(select(func.coalesce(func.max(hold.c.days), 0))).scalar_one())
    window_start = cutoff - timedelta(days=longest)

    accounts = (
        select(account_table.c.id, account_table.c.code, account_table.c.currency)
        .where(or_(*(account_table.c.code.like(p) for p in codes_like)))
        .cte("acc")
    )
    balances = (
        select(balance_table.c.account_id, func.sum(balance_table.c.amount).label("amount"))
        .join(accounts, accounts.c.id == balance_table.c.account_id)
        .group_by(balance_table.c.account_id)
        .cte("bal")
    )
    original = aliased(entry_table, name="original")
    reversed_kind = select(original.c.kind).where(original.c.seq == entry_table.c.reverses_seq).scalar_subquery()
    # CASE arms are evaluated in order: the reversed entry's kind is looked up only for late reversals
    later_arms = [(entry_table.c.effective_at < cutoff, 0)]
    if settling:
        later_arms += [
            (entry_table.c.kind.in_(settling), 0),
            (and_(entry_table.c.reverses_seq.is_not(None), reversed_kind.in_(settling)), 0),
        ]
    later = case(*later_arms, else_=posting_table.c.amount)
    moved = posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).join(
        accounts, accounts.c.id == posting_table.c.account_id
    )
    held: ColumnElement[int]
    if hold is not None:
        moved = moved.outerjoin(hold, hold.c.subject == entry_table.c.subject)
        held = case(
            (
                and_(
                    entry_table.c.effective_at < cutoff,
                    hold.c.subject.is_not(None),
                    _inside_hold(conn.dialect.name, entry_table.c.effective_at, cutoff, hold.c.days),
                ),
                posting_table.c.amount,
            ),
            else_=0,
        )
    else:
        held = literal(0)
    recent = (
        select(posting_table.c.account_id, func.sum(later).label("later"), func.sum(held).label("held"))
        .select_from(moved)
        .where(entry_table.c.effective_at >= window_start)
        .group_by(posting_table.c.account_id)
        .cte("recent")
    )
    query = (
        select(
            accounts.c.code,
            accounts.c.currency,
            func.coalesce(balances.c.amount, 0),
            func.coalesce(recent.c.later, 0),
            func.coalesce(recent.c.held, 0),
        )
        .select_from(
            accounts.outerjoin(balances, balances.c.account_id == accounts.c.id).outerjoin(
                recent, recent.c.account_id == accounts.c.id
            )
        )
        .where(or_(func.coalesce(balances.c.amount, 0) != 0, recent.c.account_id.is_not(None)))
    )
    if conn.dialect.name == "postgresql":
        # The correlated lookup of reversed entries inflates the cost estimate past
        # jit_above_cost; compiling the query would take longer than running it.
        conn.exec_driver_sql("SET LOCAL jit = off")
    # options on the statement, not the connection: a connection keeps its options for what follows
    result = conn.execute(query.execution_options(stream_results=True, yield_per=STREAM_ROWS))
    for code, currency, balance, later_sum, held_sum in result:
        yield Position(code, currency, int(balance), int(later_sum), int(held_sum))


def _inside_hold(
    dialect: str, effective_at: ColumnElement[datetime], cutoff: datetime, days: ColumnElement[int]
) -> ColumnElement[bool]:
    """``effective_at > cutoff - days`` (days an integer column)."""
    if dialect == "postgresql":
        return effective_at > literal(cutoff) - func.make_interval(0, 0, 0, cast(days, Integer))
    # SQLite keeps naive UTC text; julianday reads it
    return func.julianday(effective_at) + days > func.julianday(cutoff.replace(tzinfo=None).isoformat(sep=" "))
