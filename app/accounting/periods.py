"""Accounting periods are calendar months named ``YYYY-MM``: the half-open UTC range
``[first day 00:00, first day of the next month 00:00)`` — the same half-open ranges
the ledger's closed periods and ``reports.balances(before=…)`` use, so months tile
without overlap."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from app.errors import ValidationProblem

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    name: str
    starts_at: datetime
    ends_at: datetime

    @property
    def settlement_group(self) -> str:
        """The Stripe ``transfer_group`` of this period's settlement run (shared contract)."""
        return f"settlement-{self.name}"

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    def next(self) -> "Period":
        return month_of(self.ends_at)


def parse_period(text: str | None) -> Period:
    """``"2026-10"`` → October 2026; anything else is a 422 naming the field."""
    found = PERIOD_PATTERN.match((text or "").strip())
    if not found or int(found.group(1)) < 1970:
        raise ValidationProblem(f"{text!r} is not a period: give a month as YYYY-MM, e.g. 2026-10.",
                                errors={"period": "must be a month as YYYY-MM, e.g. 2026-10"})
    year, month = int(found.group(1)), int(found.group(2))
    starts = datetime(year, month, 1, tzinfo=timezone.utc)
    ends = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    return Period(f"{year:04d}-{month:02d}", starts, ends)


def month_of(moment: datetime) -> Period:
    moment = moment.astimezone(timezone.utc)
    return parse_period(f"{moment.year:04d}-{moment.month:02d}")


def previous_month(moment: datetime) -> Period:
    return month_of(month_of(moment).starts_at - timedelta(days=1))
