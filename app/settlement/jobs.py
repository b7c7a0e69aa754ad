"""The scheduler's monthly settlement: settle the month before the clock's.

A no-op once that period's run is done, a resume when it was interrupted; it logs
instead of raising when payments are not configured or the run is refused, so the
scheduler keeps running its other jobs.
"""

from __future__ import annotations

import logging

from app.clock import Clock
from app.errors import Problem
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway

from .errors import SettlementRefused
from .planning import period_before
from .service import RunReport, Settler

log = logging.getLogger(__name__)


def settle_previous_month() -> RunReport | None:
    """The ``settlement-monthly`` job (runs in the app's context)."""
    settler, now = provided(Settler), provided(Clock)()
    period = period_before(now)
    if settler.is_done(period):
        log.info("settlement %s already done", period.name)
        return None
    try:
        report = settler.settle(period, now=now, actor="scheduler", gateway=provided(PaymentGateway))
    except Problem as exc:  # payments not configured
        log.error("settlement %s not started: %s", period.name, exc.detail or exc.title)
        return None
    except SettlementRefused as exc:
        log.warning("settlement %s not started: %s", period.name, exc)
        return None
    log.info("settlement %s: %s", period.name, report.run.status if report.run else report.note)
    return report
