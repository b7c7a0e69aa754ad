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
  a no-op once that period's run is done, a resume when it was interrupted.  It runs
  however late it is (no misfire grace time), once (coalesced).
* ``settlement-catch-up`` — added by ``run`` at every start (``add_catch_up``), run at
  once: adding the monthly job again computes its next run from the current time, so a
  due run the process missed (down at the due time, restarted just after it, a clock
  that jumped) would be skipped.  Every period due since the last one settled
  (``due_settlements``) is settled now, oldest first, each once; done periods are no-ops.
* ``settlement-awaiting-funds`` — pays the items of runs that wait for the platform's
  Stripe funds to become available (``app.settlement.jobs.pay_awaiting_funds``).
* ``licences-expire`` — moves licences past their end to their ended state, with the
  audit entry and mail to their parties (``app.marketplace.expiry``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from ledger import chain
from ledger.periods import Period

from .clock import Clock
from .config import ConfigError
from .db import Database
from .kit.registry import provided
from .mail.runtime import deliver_outbox
from .marketplace.expiry import end_due_licences_job
from .payments.cli import retry_events
from .settlement.jobs import pay_awaiting_funds, settle_due, settle_previous_month
from .settlement.planning import period_before
from .settlement.service import Settler

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
CATCH_UP_JOB_ID = "settlement-catch-up"
AWAITING_FUNDS_INTERVAL_SECONDS = 15 * 60
EXPIRY_INTERVAL_SECONDS = 60
# how far back the last due run is looked for: longer than any month, so a monthly
# schedule always has one
DUE_LOOKBACK = timedelta(days=62)


def settlement_job() -> None:
    """Settle the month before the clock's (``app.settlement.jobs``)."""
    app = _context["app"]
    with app.app_context():
        settle_previous_month()


def settlement_catch_up_job() -> None:
    """Settle every period that became due while no scheduler ran (see ``due_settlements``)."""
    app = _context["app"]
    with app.app_context():
        trigger = settlement_trigger(app.config["SETTLEMENT_SCHEDULE"])
        now = provided(Clock)()
        settle_due(due_settlements(trigger, now, provided(Settler).last_settled_period()))


def awaiting_funds_job() -> None:
    app = _context["app"]
    with app.app_context():
        pay_awaiting_funds()


def licences_expire_job() -> None:
    app = _context["app"]
    with app.app_context():
        end_due_licences_job()


def settlement_trigger(expression: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as exc:
        raise ConfigError(f"SETTLEMENT_SCHEDULE {expression!r} is not a valid crontab expression: {exc}") from None


def last_due(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The trigger's latest fire time at or before ``now`` (within ``DUE_LOOKBACK``)."""
    found, moment = None, now - DUE_LOOKBACK
    while (fire := trigger.get_next_fire_time(None, moment)) is not None and fire <= now:
        found, moment = fire, fire + timedelta(microseconds=1)
    return found


def due_settlements(trigger: CronTrigger, now: datetime, last_settled: Period | None) -> list[Period]:
    """The periods whose settlement is due at ``now``: each month after the last one settled
    (or, when none ever was, the last due one alone), up to the month before the trigger's
    latest fire time at or before ``now`` — oldest first.  A period already settled costs
    nothing (the job finds it done); the last settled one is included, so an interrupted
    run is resumed."""
    fired = last_due(trigger, now)
    if fired is None:
        return []
    target = period_before(fired)
    first = last_settled or target
    if first.starts_at > target.starts_at:
        return []
    periods = [first]
    while periods[-1].starts_at < target.starts_at:
        periods.append(periods[-1].next())
    return periods


JOBS: list[tuple[str, Callable[[], None], dict]] = [
    ("ledger-seal", seal_job, {"trigger": "interval", "seconds": SEAL_INTERVAL_SECONDS}),
    ("payments-retry-events", payments_retry_job, {"trigger": "interval", "seconds": PAYMENTS_RETRY_INTERVAL_SECONDS}),
    ("mail-send", mail_send_job, {"trigger": "interval", "seconds": MAIL_SEND_INTERVAL_SECONDS}),
    (
        "settlement-awaiting-funds",
        awaiting_funds_job,
        {"trigger": "interval", "seconds": AWAITING_FUNDS_INTERVAL_SECONDS},
    ),
    ("licences-expire", licences_expire_job, {"trigger": "interval", "seconds": EXPIRY_INTERVAL_SECONDS}),
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
        misfire_grace_time=None,  # a due settlement runs however late it is
    )
    return scheduler


def add_catch_up(scheduler: BaseScheduler) -> None:
    """The one-off ``settlement-catch-up`` job, due at once (see the module docstring)."""
    scheduler.add_job(
        settlement_catch_up_job, id=CATCH_UP_JOB_ID, replace_existing=True, trigger="date", misfire_grace_time=None
    )


def run(app: Flask) -> None:
    scheduler = build_scheduler(app)
    add_catch_up(scheduler)
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
