"""The local SMTP sink: catches every message sent to it and keeps it in a Maildir.

``make run`` starts it (``python -m app.mail.sink_process``) beside the web server, so mail
sent in development goes nowhere but ``instance/mail-sink/``, where the development
page ``/dev/mail`` reads it.  The tests start the same sink in-process on a port the
kernel picks.

It is aiosmtpd — the maintained asyncio SMTP server that replaced the standard
library's ``smtpd`` — with its ``Mailbox`` handler, which stores each message with
the standard library's ``mailbox.Maildir`` (one file per message, written atomically)
after adding the envelope as ``X-MailFrom`` / ``X-RcptTo`` headers.
"""

from __future__ import annotations

import asyncio
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

DEFAULT_PORT = 8025


class SinkController(Controller):
    """aiosmtpd's threaded controller; ``port=0`` binds a port the kernel picks (``self.port`` after start)."""

    def _trigger_server(self) -> None:
        # start() connects to the new server once, to make sure it answers; learn the real port first.
        server = self.server
        if not isinstance(server, asyncio.Server):
            raise RuntimeError(f"the SMTP sink did not start a server (got {server!r})")
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


def start_sink(
    directory: Path | str, *, host: str = "127.0.0.1", port: int = 0, handler: Mailbox | None = None, **smtp_options
) -> SinkController:
    """Start a sink storing into the Maildir ``directory`` (or through ``handler``, a ``Mailbox``
    that behaves differently); returns once it answers on ``host:port``.  ``smtp_options`` go to
    aiosmtpd's SMTP server (e.g. ``authenticator``, ``tls_context``) or its controller (``ssl_context``)."""
    controller = SinkController(handler or Mailbox(Path(directory)), hostname=host, port=port, **smtp_options)
    controller.start()
    return controller


@dataclass(frozen=True)
class CaughtMail:
    """One caught message, as the development page shows it."""

    key: str
    received_at: datetime
    envelope_to: str
    subject: str
    from_header: str
    to_header: str
    message_id: str
    text: str | None
    html: str | None
    headers: tuple[tuple[str, str], ...]


def _parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


def _caught(box: mailbox.Maildir, key: str) -> CaughtMail:
    received = datetime.fromtimestamp(box.get_message(key).get_date(), tz=UTC)
    message = _parse(box.get_bytes(key))
    return CaughtMail(
        key=key,
        received_at=received,
        envelope_to=str(message.get("X-RcptTo", "")),
        subject=str(message.get("Subject", "")),
        from_header=str(message.get("From", "")),
        to_header=str(message.get("To", "")),
        message_id=str(message.get("Message-ID", "")),
        text=_part(message, "plain"),
        html=_part(message, "html"),
        headers=tuple((name, str(value)) for name, value in message.items()),
    )


def caught_messages(directory: Path | str) -> list[CaughtMail]:
    """Everything the sink caught in ``directory``, newest first (empty if it caught nothing yet)."""
    if not Path(directory).is_dir():
        return []
    box = mailbox.Maildir(directory, create=False)
    keys = box.keys()  # a Maildir iterates its messages; the keys name them
    return sorted((_caught(box, key) for key in keys), key=lambda m: (m.received_at, m.key), reverse=True)


def caught_message(directory: Path | str, key: str) -> CaughtMail | None:
    if not Path(directory).is_dir():
        return None
    box = mailbox.Maildir(directory, create=False)
    try:
        return _caught(box, key)
    except KeyError:
        return None
