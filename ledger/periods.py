"""Closing accounting periods (invariant 6).

A closed period is a half-open range [starts_at, ends_at) in which no entry may be
effective.  The check runs in Python before posting and again in a BEFORE INSERT
trigger.  Closing takes ``LOCK ledger_entry IN SHARE MODE`` on PostgreSQL so that
no transaction which already checked the (still open) period can commit an entry
into it after the close; on SQLite the write lock gives the same guarantee.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, text
from sqlalchemy.orm import Session

from .errors import LedgerError
from .models import ClosedPeriod, Entry
from .types import as_utc

period_t = ClosedPeriod.__table__
entry_t = Entry.__table__


def close_period(
    session: Session, *, name: str, starts_at: datetime, ends_at: datetime, closed_by: str, now: datetime
) -> ClosedPeriod:
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    if not starts_at < ends_at:
        raise LedgerError("a period must start before it ends")
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE ledger_entry IN SHARE MODE"))
    existing = conn.execute(select(period_t).where(period_t.c.name == name)).first()
    if existing is not None:
        raise LedgerError(f"period {name} is already closed")
    overlapping = conn.execute(
        select(period_t.c.name).where(and_(period_t.c.starts_at < ends_at, period_t.c.ends_at > starts_at))
    ).first()
    if overlapping is not None:
        raise LedgerError(f"period {name} overlaps closed period {overlapping.name}")
    row = dict(name=name, starts_at=starts_at, ends_at=ends_at, closed_at=as_utc(now), closed_by=closed_by)
    new_id = conn.execute(period_t.insert().returning(period_t.c.id), row).scalar_one()
    return ClosedPeriod(id=new_id, **row)


def closed_periods(session: Session) -> list[ClosedPeriod]:
    rows = session.connection().execute(select(period_t).order_by(period_t.c.starts_at)).all()
    return [ClosedPeriod(**row._mapping) for row in rows]


def is_closed(session: Session, at: datetime) -> bool:
    at = as_utc(at)
    return session.connection().execute(
        select(period_t.c.id).where(and_(period_t.c.starts_at <= at, period_t.c.ends_at > at))
    ).first() is not None
