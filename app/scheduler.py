"""``cameo scheduler``: the one process that runs scheduled work (APScheduler 3).

Never started inside a web worker.  Jobs live in a persistent SQLAlchemy job store
in the product's own database, are coalesced (a backlog of missed runs becomes one
run) and have a misfire grace time.  Job functions are module-level so the store
can reference them by name; they reach the app through ``_context``, which is set
when the scheduler starts (nothing happens at import).

Jobs:
* ``ledger-seal`` — links committed entries into the hash chain every few seconds.
* ``payments-retry-events`` — applies stored Stripe events that could not be applied yet.
* ``mail-send`` — sends the mail outbox (``app.mail``) every few seconds.
* ``settlement-monthly`` — settles the previous month (``SETTLEMENT_SCHEDULE``, cron, UTC);
  a no-op once that period's run is done, a resume when it was interrupted.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from ledger import chain

from .clock import Clock
from .config import ConfigError
from .db import Database
from .kit.registry import provided
from .mail.runtime import deliver_outbox
from .payments.cli import retry_events
from .settlement.jobs import settle_previous_month

log = logging.getLogger(__name__)
_context: dict[str, Flask] = {}

SEAL_INTERVAL_SECONDS = 5


def seal_job() -> None:
    app = _context["app"]
    result = chain.seal(provided(Database, app).engine, now=provided(Clock, app)())
    if result.sealed:
        log.info("sealed %d entries; head seq %d", result.sealed, result.head_seq)


def payments_retry_job() -> None:
    """Apply the stored Stripe webhook events that could not be applied yet."""
    app = _context["app"]
    with app.app_context():
        report = retry_events()
    if report.processed or report.pending:
        log.info("Stripe events: %d processed, %d pending", len(report.processed), len(report.pending))


PAYMENTS_RETRY_INTERVAL_SECONDS = 60
MAIL_SEND_INTERVAL_SECONDS = 5


def mail_send_job() -> None:
    """Send the due messages of the mail outbox (``app.mail``)."""
    deliver_outbox(_context["app"])


SETTLEMENT_JOB_ID = "settlement-monthly"


def settlement_job() -> None:
    """Settle the month before the clock's (``app.settlement.jobs``)."""
    app = _context["app"]
    with app.app_context():
        settle_previous_month()


def settlement_trigger(expression: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as exc:
        raise ConfigError(f"SETTLEMENT_SCHEDULE {expression!r} is not a valid crontab expression: {exc}") from None


JOBS: list[tuple[str, Callable[[], None], dict]] = [
    ("ledger-seal", seal_job, {"trigger": "interval", "seconds": SEAL_INTERVAL_SECONDS}),
    ("payments-retry-events", payments_retry_job, {"trigger": "interval", "seconds": PAYMENTS_RETRY_INTERVAL_SECONDS}),
    ("mail-send", mail_send_job, {"trigger": "interval", "seconds": MAIL_SEND_INTERVAL_SECONDS}),
]


def build_scheduler(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    _context["app"] = app
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=provided(Database, app).engine)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "misfire_grace_time": 300, "max_instances": 1},
        timezone="UTC",
    )
    for job_id, func, trigger in JOBS:
        scheduler.add_job(func, id=job_id, replace_existing=True, **trigger)
    scheduler.add_job(
        settlement_job,
        id=SETTLEMENT_JOB_ID,
        replace_existing=True,
        trigger=settlement_trigger(app.config["SETTLEMENT_SCHEDULE"]),
    )
    return scheduler


def run(app: Flask) -> None:
    scheduler = build_scheduler(app)
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
