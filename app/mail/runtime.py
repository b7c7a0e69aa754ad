"""The app's handle on mail: the mailer it was built with, and one outbox run.

``init_app`` keeps the mailer ``make_mailer(app.config)`` built in
``app.extensions["cameo.mailer"]`` (a composition root may put its own there; tests
do).  ``deliver_outbox`` is what the scheduler's ``mail-send`` job and ``cameo mail
send`` run: the app's database, mailer and clock handed to ``send_pending``.
"""
from __future__ import annotations

import logging

from flask import Flask

from app.db import get_db

from .mailer import Mailer
from .sending import DEFAULT_BATCH, SendReport, send_pending

log = logging.getLogger(__name__)
MAILER_EXTENSION = "cameo.mailer"


def mailer_for(app: Flask) -> Mailer:
    return app.extensions[MAILER_EXTENSION]


def deliver_outbox(app: Flask, *, limit: int = DEFAULT_BATCH) -> SendReport:
    report = send_pending(get_db(app), mailer_for(app), now=app.config["CLOCK"](), limit=limit)
    if report.sent or not report.all_sent:
        log.info("mail: %d sent, %d to retry, %d failed, %d uncertain, %d abandoned by a dead sender; %d waiting",
                 len(report.sent), len(report.retrying), len(report.failed), len(report.uncertain),
                 len(report.abandoned), report.waiting)
    return report
