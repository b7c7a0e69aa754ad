"""The scheduler's settlement jobs.

``settle_previous_month`` — the ``settlement-monthly`` job: settle the month before the
clock's.  ``settle_due`` — the catch-up the scheduler runs when it starts: every period
whose settlement was due while no scheduler ran it (the process was down, restarted
across the due time, or the clock jumped), oldest first, each once.
``pay_awaiting_funds`` — resume runs whose items wait for the platform's Stripe funds
to become available.

Each is a no-op for a period whose run is done and a resume for one that was
interrupted; they log instead of raising when payments are not configured or a run is
refused, so the scheduler keeps running its other jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from app.clock import Clock
from app.errors import Problem
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from ledger.periods import Period

from .errors import SettlementRefused
from .planning import period_before
from .service import RunReport, Settler

log = logging.getLogger(__name__)


def settle_period(settler: Settler, period: Period, now: datetime, gateway: PaymentGateway) -> RunReport | None:
    """Settle (or resume) ``period`` as the scheduler; None when done already or refused."""
    if settler.is_done(period):
        log.info("settlement %s already done", period.name)
        return None
    try:
        report = settler.settle(period, now=now, actor="scheduler", gateway=gateway)
    except SettlementRefused as exc:
        log.warning("settlement %s not started: %s", period.name, exc)
        return None
    log.info("settlement %s: %s", period.name, report.run.status if report.run else report.note)
    return report


def _gateway() -> PaymentGateway | None:
    try:
        return provided(PaymentGateway)
    except Problem as exc:  # payments not configured
        log.error("settlement not started: %s", exc.detail or exc.title)
        return None


def settle_previous_month() -> RunReport | None:
    """The ``settlement-monthly`` job (runs in the app's context)."""
    settler, now = provided(Settler), provided(Clock)()
    period = period_before(now)
    if settler.is_done(period):
        log.info("settlement %s already done", period.name)
        return None
    gateway = _gateway()
    return None if gateway is None else settle_period(settler, period, now, gateway)


def settle_due(periods: Sequence[Period]) -> list[RunReport]:
    """The catch-up job: settle each of ``periods`` (oldest first) that is not done yet."""
    settler, now = provided(Settler), provided(Clock)()
    todo = [p for p in sorted(periods, key=lambda p: p.starts_at) if not settler.is_done(p)]
    if not todo:
        return []
    gateway = _gateway()
    if gateway is None:
        return []
    log.info("settlement catch-up: %s", ", ".join(p.name for p in todo))
    reports = []
    for period in todo:
        report = settle_period(settler, period, now, gateway)
        if report is not None:
            reports.append(report)
    return reports


def pay_awaiting_funds() -> list[RunReport]:
    """Resume every run with items waiting for funds (the ``settlement-awaiting-funds`` job)."""
    settler, now = provided(Settler), provided(Clock)()
    periods = settler.periods_awaiting_funds()
    if not periods:
        return []
    gateway = _gateway()
    if gateway is None:
        return []
    return [r for p in periods if (r := settle_period(settler, p, now, gateway)) is not None]
