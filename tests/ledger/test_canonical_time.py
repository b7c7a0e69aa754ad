"""Times in content hashes: ``iso_utc`` must keep producing the exact text every stored
hash was made with (``%Y-%m-%dT%H:%M:%S.%fZ`` in UTC), whatever its implementation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger.canonical import iso_utc


@pytest.mark.parametrize(
    "value, text",
    [
        (datetime(2026, 11, 24, 9, 5, 7, tzinfo=UTC), "2026-11-24T09:05:07.000000Z"),
        (datetime(2026, 11, 24, 9, 5, 7, 120, tzinfo=UTC), "2026-11-24T09:05:07.000120Z"),
        (datetime(2026, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))), "2025-12-31T23:30:00.000000Z"),
        (datetime(2026, 1, 1, 12, 0, 0, 999999), "2026-01-01T12:00:00.999999Z"),  # naive: taken as UTC
        (
            datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),
            datetime(999, 3, 4, 5, 6, 7).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        ),
    ],
)
def test_iso_utc_is_the_hashed_text(value, text):
    assert iso_utc(value) == text
