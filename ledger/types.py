"""Column types shared by the ledger and the app.

``UTCDateTime`` stores instants in UTC on every backend and always hands back
timezone-aware ``datetime`` objects, so comparisons never mix naive and aware
values.  SQLite has no time zone type: it stores naive UTC text, which sorts
correctly because SQLAlchemy always writes the same ISO layout.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


def as_utc(value: datetime) -> datetime:
    """Aware UTC version of ``value``; naive input is taken to be UTC already."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)
