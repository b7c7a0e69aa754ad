"""Accounting periods as the accountant names them (``YYYY-MM``), over the ledger's
``Period`` value object: bad text in a form or API body becomes a 422 naming the
field, in a page's address a 400 "Bad period"."""

from __future__ import annotations

from datetime import datetime

from app.errors import Problem, ValidationProblem
from ledger.periods import Period

__all__ = ["BadPeriod", "Period", "month_of", "parse_period", "period_in_address", "previous_month"]


class BadPeriod(Problem):
    status = 400
    title = "Bad period"


def parse_period(text: str | None) -> Period:
    """``"2026-10"`` → October 2026; anything else is a 422 naming the field."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ValidationProblem(f"{exc!s}.", errors={"period": "must be a month as YYYY-MM, e.g. 2026-10"}) from None


def period_in_address(text: str | None) -> Period:
    """A month named in a page's path or query: anything but ``YYYY-MM`` is a 400."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise BadPeriod(f"{exc}.") from None


def month_of(moment: datetime) -> Period:
    return Period.containing(moment)


def previous_month(moment: datetime) -> Period:
    return Period.containing(moment).previous()
