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
``runtime``     one outbox run with the app's collaborators (the scheduler job, ``cameo mail send``)
``sink``        the local SMTP sink of ``make run`` and the tests (aiosmtpd)
``dev_views``   ``/dev/mail``, development only
``cli``         ``cameo mail send | list | retry | test``
"""

from __future__ import annotations

from flask import Flask

from .cli import mail_cli
from .dev_views import bp as dev_mail_pages


def init_app(app: Flask) -> None:
    """Register ``cameo mail`` and, in development only, ``/dev/mail`` (the mailer itself
    is built by the composition root from ``MAIL_URL``/``MAIL_FROM``)."""
    app.cli.add_command(mail_cli)
    if app.config["CAMEO_ENV"] == "development":
        app.register_blueprint(dev_mail_pages)
