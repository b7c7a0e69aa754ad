"""The app's handle on settlement: a ``Settler`` built from configuration, the scheduled job,
the ``cameo settle`` command, the staff pages and the transfer-reversal webhooks."""
from __future__ import annotations

import logging

from flask import Flask, current_app

from app.db import get_db
from app.errors import Problem
from app.ledger_service import get_ledger

from .errors import SettlementRefused
from .planning import period_before
from .locks import DEFAULT_WAIT_SECONDS
from .service import DONE_RUN_STATUSES, RetryPolicy, RunReport, Settler

log = logging.getLogger(__name__)


def settler_for(app: Flask | None = None, *, gateway=None) -> Settler:
    """A Settler with this app's database, ledger and settings (``gateway`` None: plan/report only)."""
    app = app or current_app._get_current_object()
    return Settler(db=get_db(app), ledger=get_ledger(app), gateway=gateway,
                   min_payout=app.config["SETTLEMENT_MIN_PAYOUT"],
                   retry=app.config.get("SETTLEMENT_RETRY") or RetryPolicy(),
                   workers=app.config["SETTLEMENT_WORKERS"],
                   writes_per_second=app.config["SETTLEMENT_STRIPE_WRITES_PER_SECOND"] or None,
                   lock_wait_seconds=app.config.get("SETTLEMENT_LOCK_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))


def run_scheduled_settlement(app: Flask) -> RunReport | None:
    """The ``settlement-monthly`` job: settle the month before the clock's (a no-op once it is done)."""
    from app.payments.wiring import get_gateway

    now = app.config["CLOCK"]()
    period = period_before(now)
    existing = settler_for(app).report(period)
    if existing.run is not None and existing.run.status in DONE_RUN_STATUSES:
        log.info("settlement %s already %s", period.name, existing.run.status)
        return existing
    try:
        report = settler_for(app, gateway=get_gateway(app)).settle(period, now=now, actor="scheduler")
    except Problem as exc:  # payments not configured
        log.error("settlement %s not started: %s", period.name, exc.detail or exc.title)
        return None
    except SettlementRefused as exc:
        log.warning("settlement %s not started: %s", period.name, exc)
        return None
    log.info("settlement %s: %s", period.name, report.run.status if report.run else report.note)
    return report


def init_app(app: Flask) -> None:
    from . import reversals
    from .cli import settle_command
    from .views import bp

    reversals.register()
    app.cli.add_command(settle_command)
    app.register_blueprint(bp)
