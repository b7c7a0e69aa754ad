"""Mail test helpers: the in-process SMTP sink, a mailer for it, and outbox shortcuts.

``Sink`` is the same aiosmtpd sink ``make run`` starts, on a port the kernel picks;
``start()`` returns once the server has answered a first connection (aiosmtpd's
controller waits for its ready event and a greeting), so no test sleeps.  Stopping and
starting it again keeps its port, which is how a test takes the "server" down and
brings it back.  ``messages()`` reads what it caught from its Maildir.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.handlers import Mailbox
from sqlalchemy import select

from app.db import Database
from app.mail.mailer import SmtpMailer
from app.mail.models import OutboxMessage
from app.mail.outbox import Enqueued, enqueue
from app.mail.settings import identity_from, parse_mail_url
from app.mail.sink import SinkController, start_sink

SECRET_KEY = "test-secret-key-not-for-production"
IDENTITY = identity_from({"MAIL_FROM": "Cameo Exchange <no-reply@cameo.test>", "SECRET_KEY": SECRET_KEY})


class Sink:
    def __init__(self, directory: Path, *, handler: Callable[[Path], Mailbox] | None = None, **options):
        self.directory = directory
        self.handler = handler  # builds a Mailbox handler for the directory (a sink that misbehaves)
        self.options = options
        self.port = 0
        self.controller: SinkController | None = None

    def start(self) -> Sink:
        assert self.controller is None
        handler = self.handler(self.directory) if self.handler else None
        self.controller = start_sink(self.directory, port=self.port, handler=handler, **self.options)
        self.port = self.controller.port
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[EmailMessage]:
        """What the sink caught, oldest first."""
        if not self.directory.is_dir():
            return []
        box = mailbox.Maildir(self.directory, create=False)
        keys = sorted(box.keys(), key=lambda k: (box.get_message(k).get_date(), k))
        return [BytesParser(policy=policy.default).parsebytes(box.get_bytes(k)) for k in keys]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages()]


def smtp_mailer(url: str, **options) -> SmtpMailer:
    settings = parse_mail_url(url)
    assert settings is not None
    return SmtpMailer(settings, IDENTITY, **options)


def queue(
    db: Database,
    key: str,
    now,
    *,
    to: str = "Ada <ada@example.com>",
    subject: str = "Hello",
    text: str = "Hello Ada.",
    html: str | None = None,
) -> Enqueued:
    """Enqueue one message and commit, as a feature's service would."""
    with db.unit_of_work() as uow:
        queued = enqueue(uow, to=to, subject=subject, text=text, html=html, key=key, now=now)
        uow.commit()
    return queued


def row(db: Database, outbox_id: int) -> OutboxMessage:
    with db.unit_of_work() as uow:
        found = uow.session.get(OutboxMessage, outbox_id)
        assert found is not None
        uow.session.expunge(found)
        return found


def rows(db: Database) -> list[OutboxMessage]:
    with db.unit_of_work() as uow:
        found = uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        uow.session.expunge_all()
        return list(found)
