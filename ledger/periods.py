"""Accounting periods: named calendar ranges, and closing them (invariant 6).

``Period`` is the one value object for "a month" (``2026-10``) or "a year" (``2026``)
everywhere — statements, settlement runs, reconciliation, exports: the half-open UTC
range ``[first instant, first instant of the next)``, the same half-open ranges the
closed periods and ``reports.balances(before=…)`` use, so months tile without overlap.

A closed period is a half-open range [starts_at, ends_at) in which no entry may be
effective.  The check runs in Python before posting and again in a BEFORE INSERT
trigger.  Closing takes ``LOCK ledger_entry IN SHARE MODE`` on PostgreSQL so that
no transaction which already checked the (still open) period can commit an entry
into it after the close; on SQLite the write lock gives the same guarantee.

**Late entries.**  Something that happened inside a closed period and is learnt of
only now (a payment provider's event delivered after the close) cannot be booked on
its own date.  ``booked_when_open`` moves such a draft to the first open moment after
the closed periods its date falls in and keeps the date in its metadata
(``original_effective_at``, and the closed period's name as ``late_from``), so the
closed period's figures never change and the entry shows as a prior-period adjustment
of the period it lands in.  A replay of the same draft — even after more periods have
closed — is moved to where its first posting went, so the ledger's idempotency still
sees the same entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, select, text
from sqlalchemy.orm import Session

from .book import EntryDraft
from .canonical import iso_utc
from .errors import LedgerError
from .models import ClosedPeriod, closed_period_table, entry_table
from .types import as_utc

MONTH = re.compile(r"(\d{4})-(\d{2})")


class InvalidPeriod(ValueError):
    """Text that does not name a month (``YYYY-MM``)."""


@dataclass(frozen=True)
class Period:
    """A half-open range of business time with a name (``2026-10``, ``2026``)."""

    name: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return cls(f"{year:04d}-{month:02d}", start, end)

    @classmethod
    def year(cls, year: int) -> Period:
        if not 1970 <= year <= 9998:
            raise ValueError(f"{year} is not a plausible calendar year")
        return cls(f"{year:04d}", datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))

    @classmethod
    def parse(cls, text: str | None) -> Period:
        """``YYYY-MM`` → that calendar month (UTC); anything else is a ``ValueError``."""
        match = MONTH.fullmatch((text or "").strip())
        if not match or not 1 <= int(match[2]) <= 12 or not 1970 <= int(match[1]) <= 9998:
            raise InvalidPeriod(f"{(text or '')[:20]!r} is not a period: write a month as YYYY-MM, e.g. 2026-10")
        return cls.month(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, instant: datetime) -> Period:
        instant = as_utc(instant)
        return cls.month(instant.year, instant.month)

    def contains(self, instant: datetime) -> bool:
        return self.starts_at <= as_utc(instant) < self.ends_at

    def next(self) -> Period:
        return Period.containing(self.ends_at)

    def previous(self) -> Period:
        return Period.containing(self.starts_at - timedelta(days=1))


def months(first: datetime, last: datetime) -> list[Period]:
    """Every calendar month from the one holding ``first`` to the one holding ``last``."""
    out, current = [], Period.containing(first)
    while current.starts_at <= last:
        out.append(current)
        current = current.next()
    return out


def close_period(
    session: Session, *, name: str, starts_at: datetime, ends_at: datetime, closed_by: str, now: datetime
) -> ClosedPeriod:
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    if not starts_at < ends_at:
        raise LedgerError("a period must start before it ends")
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE ledger_entry IN SHARE MODE"))
    existing = conn.execute(select(closed_period_table).where(closed_period_table.c.name == name)).first()
    if existing is not None:
        raise LedgerError(f"period {name} is already closed")
    overlapping = conn.execute(
        select(closed_period_table.c.name).where(
            and_(closed_period_table.c.starts_at < ends_at, closed_period_table.c.ends_at > starts_at)
        )
    ).first()
    if overlapping is not None:
        raise LedgerError(f"period {name} overlaps closed period {overlapping.name}")
    closed_at = as_utc(now)
    new_id = conn.execute(
        closed_period_table.insert().returning(closed_period_table.c.id),
        dict(name=name, starts_at=starts_at, ends_at=ends_at, closed_at=closed_at, closed_by=closed_by),
    ).scalar_one()
    return ClosedPeriod(
        id=new_id, name=name, starts_at=starts_at, ends_at=ends_at, closed_at=closed_at, closed_by=closed_by
    )


def closed_periods(session: Session) -> list[ClosedPeriod]:
    rows = session.connection().execute(select(closed_period_table).order_by(closed_period_table.c.starts_at)).all()
    return [ClosedPeriod(**row._mapping) for row in rows]


def is_closed(session: Session, at: datetime) -> bool:
    at = as_utc(at)
    return (
        session.connection()
        .execute(
            select(closed_period_table.c.id).where(
                and_(closed_period_table.c.starts_at <= at, closed_period_table.c.ends_at > at)
            )
        )
        .first()
        is not None
    )


ORIGINAL_EFFECTIVE_AT = "original_effective_at"
LATE_FROM = "late_from"


def first_open_moment(session: Session, at: datetime) -> datetime:
    """``at``, or — when it falls in closed periods — the end of the last of them."""
    at = as_utc(at)
    for closed in closed_periods(session):  # ordered by start, so adjacent ones chain
        if as_utc(closed.starts_at) <= at < as_utc(closed.ends_at):
            at = as_utc(closed.ends_at)
    return at


def _closed_period_at(session: Session, at: datetime) -> str | None:
    table = closed_period_table
    containing = select(table.c.name).where(table.c.starts_at <= at, table.c.ends_at > at)
    row = session.connection().execute(containing).first()
    return None if row is None else str(row[0])


def booked_when_open(session: Session, draft: EntryDraft) -> EntryDraft:
    """``draft`` as it can be posted now: unchanged when its date is in an open period,
    otherwise moved to the first open moment with its own date kept in its metadata."""
    at = as_utc(draft.effective_at)
    closed = _closed_period_at(session, at)
    if closed is None:
        return draft
    meta = {**dict(draft.meta), ORIGINAL_EFFECTIVE_AT: iso_utc(at), LATE_FROM: closed}
    same_key = entry_table.c.idempotency_key == draft.idempotency_key
    found = select(entry_table.c.effective_at, entry_table.c.metadata).where(same_key)
    posted = session.connection().execute(found).first()
    if posted is not None and (posted.metadata or {}).get(ORIGINAL_EFFECTIVE_AT) == meta[ORIGINAL_EFFECTIVE_AT]:
        moved = as_utc(posted.effective_at)  # a replay: where the first posting went
        meta[LATE_FROM] = (posted.metadata or {}).get(LATE_FROM, closed)
    else:
        moved = first_open_moment(session, at)
    return replace(draft, effective_at=moved, meta=meta)
