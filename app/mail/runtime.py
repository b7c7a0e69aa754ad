"""One outbox run with the app's collaborators: what the scheduler's ``mail-send`` job
and ``cameo mail send`` run — the app's database, mailer and clock handed to
``send_pending``."""

from __future__ import annotations

import logging

from flask import Flask

from app.clock import Clock
from app.db import Database
from app.kit.registry import provided

from .mailer import Mailer
from .sending import DEFAULT_BATCH, SendReport, send_pending

log = logging.getLogger(__name__)


def deliver_outbox(app: Flask, *, limit: int = DEFAULT_BATCH) -> SendReport:
    report = send_pending(provided(Database, app), provided(Mailer, app), now=provided(Clock, app)(), limit=limit)
    if report.sent or not report.all_sent:
        log.info(
            "mail: %d sent, %d to retry, %d failed, %d uncertain, %d abandoned by a dead sender; %d waiting",
            len(report.sent),
            len(report.retrying),
            len(report.failed),
            len(report.uncertain),
            len(report.abandoned),
            report.waiting,
        )
    return report
