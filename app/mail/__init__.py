"""Mail: an outbox written in the business transaction, sent after commit, never twice.

A feature that must tell someone something calls ``outbox.enqueue(uow, …, key=…,
now=…)`` inside its own unit of work; the message is sent only if that transaction
commits.  A sender — the scheduler's ``mail-send`` job every few seconds, or ``cameo
mail send`` — claims each due message (commit), talks SMTP, and records the outcome
(commit).  A message whose fate is unknown (the connection broke after the body went
out, or the sender died mid-way) becomes ``uncertain`` and waits for a person
(``cameo mail retry --uncertain ID``).  docs/mail.md tells the whole story.

``models``      the ``mail_outbox`` table and its states
``outbox``      enqueue (idempotent on its key), list, re-queue
``settings``    ``MAIL_URL`` / ``MAIL_FROM`` parsing; the identity inside every Message-ID
``mailer``      the ``Mailer`` interface, ``SmtpMailer`` (smtplib), ``make_mailer(config)``
``sending``     ``send_pending``: claim, send, record — the never-twice rule
``rendering``   subject/text/HTML from ``app/templates/mail/<name>.*``
``runtime``     the app's mailer and one outbox run (the scheduler job, ``cameo mail send``)
``sink``        the local SMTP sink of ``make run`` and the tests (aiosmtpd)
``dev_views``   ``/dev/mail``, development only
``cli``         ``cameo mail send | list | retry | test``
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from .cli import mail_cli
from .dev_views import bp as dev_mail_pages
from .mailer import Mailer, make_mailer
from .outbox import enqueue
from .runtime import MAILER_EXTENSION, deliver_outbox, mailer_for
from .sending import send_pending

__all__ = ["Mailer", "deliver_outbox", "enqueue", "init_app", "mailer_for", "make_mailer", "send_pending"]


def init_app(app: Flask) -> None:
    """Build the mailer from configuration (ConfigError on a malformed MAIL_URL or MAIL_FROM; nothing
    connects), register ``cameo mail`` and, in development only, ``/dev/mail``."""
    if MAILER_EXTENSION not in app.extensions:  # a composition root may have built one already
        app.extensions[MAILER_EXTENSION] = make_mailer(app.config)
    app.config.setdefault("MAIL_SINK_DIR", str(Path(app.instance_path) / "mail-sink"))
    app.cli.add_command(mail_cli)
    if app.config["CAMEO_ENV"] == "development":
        app.register_blueprint(dev_mail_pages)
