"""Parsing user-supplied instants at the edges (CLI options, query strings)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def parse_as_of(text: str) -> datetime:
    """``--as-of`` → the exclusive ``before`` instant the ledger's reports take.

    A date means "at the end of that day" (UTC); a date-time means "at that instant,
    inclusive".  Naive date-times are UTC.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date (2026-10-31) or date-time (2026-10-31T12:00:00Z)") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC) + timedelta(microseconds=1)
