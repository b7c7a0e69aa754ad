"""Handing one composed message to a mail server.

``Mailer`` is the interface the outbox sender (``app.mail.sending``) talks to; tests
hand in their own.  ``make_mailer(config)`` is what the composition root calls.

Why the standard library (``smtplib`` + ``email.message.EmailMessage``) and no PyPI
client: sending is synchronous and one message at a time (the outbox's commit per
message is the unit of progress), which is exactly what ``smtplib`` does, with
STARTTLS, implicit TLS, AUTH and SMTPUTF8 built in and maintained with Python itself.
The async clients (aiosmtplib) would need an event loop in a scheduler thread, and the
framework wrappers (Flask-Mail & co.) add an app-context dependency on top of
``smtplib`` without adding anything the outbox needs.

What a failure means decides what happens to the message, so ``send`` reports it
precisely:

* ``NotSent`` — the server certainly did not take it: it could not be reached, TLS or
  login failed, it refused the sender or the recipient, or it answered the message
  body with an error.  ``permanent`` when retrying cannot help (a 5xx refusal of this
  recipient or this content); a refusal that points at our configuration (login,
  sender) stays retryable, so fixing the settings delivers the backlog.
* ``MaybeSent`` — the conversation broke after the body started to go out (timeout,
  dropped connection before the server's answer): the server may have accepted it.
  The outbox never resends such a message by itself.
"""

from __future__ import annotations

import abc
import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from .settings import MailIdentity, SmtpSettings, identity_from, parse_mail_url

log = logging.getLogger(__name__)


class NotSent(Exception):
    """The server did not take the message; ``permanent`` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class MaybeSent(Exception):
    """The conversation broke after the message body started to go out: it may have been delivered."""


class Mailer(abc.ABC):
    """Sends one message; raises ``NotSent`` or ``MaybeSent`` when it cannot say "sent"."""

    #: False for a mailer that cannot send at all: the outbox then leaves messages queued.
    enabled = True

    def __init__(self, identity: MailIdentity):
        self.identity = identity

    @abc.abstractmethod
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (its From/To headers are the envelope)."""

    def describe(self) -> str:
        """Where mail goes, for people and logs (never a secret)."""
        return type(self).__name__

    def tell_disabled(self, waiting: int) -> None:
        """Called instead of ``send`` when ``enabled`` is False; ``waiting`` messages stay queued.
        Mailers that are always enabled have nothing to say."""
        return None


class UnconfiguredMailer(Mailer):
    """``MAIL_URL`` is empty: mail is queued but not sent, and the app says so once."""

    enabled = False

    def __init__(self, identity: MailIdentity):
        super().__init__(identity)
        self._told = threading.Event()

    def send(self, message: EmailMessage) -> None:
        raise NotSent("MAIL_URL is not set")

    def describe(self) -> str:
        return "nowhere (MAIL_URL is not set)"

    def tell_disabled(self, waiting: int) -> None:  # once per mailer, i.e. once per app
        if not self._told.is_set():
            self._told.set()
            log.warning("MAIL_URL is not set: mail is queued in the outbox but not sent (%d waiting)", waiting)


class _SMTP(smtplib.SMTP):
    """Remembers whether the DATA phase began: after that, a broken conversation may have delivered."""

    data_started = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


class _SMTPS(_SMTP, smtplib.SMTP_SSL):
    """The same over implicit TLS (method order: _SMTP, SMTP_SSL, SMTP)."""


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}".strip()


class SmtpMailer(Mailer):
    """One SMTP connection per message, as ``MAIL_URL`` says (plain, STARTTLS or TLS; AUTH if a user is given)."""

    def __init__(self, settings: SmtpSettings, identity: MailIdentity, *, tls_context: ssl.SSLContext | None = None):
        super().__init__(identity)
        self.settings = settings
        # Certificates are checked against the system's trust store unless a context is handed in.
        self._tls_context = tls_context

    def describe(self) -> str:
        return f"SMTP {self.settings.redacted_url()}"

    def _tls(self) -> ssl.SSLContext:
        return self._tls_context or ssl.create_default_context()

    def _connect(self) -> _SMTP:
        s = self.settings
        if s.security == "tls":
            return _SMTPS(s.host, s.port, timeout=s.timeout_seconds, context=self._tls())
        return _SMTP(s.host, s.port, timeout=s.timeout_seconds)

    def send(self, message: EmailMessage) -> None:
        smtp: _SMTP | None = None
        try:
            smtp = self._connect()
            if self.settings.security == "starttls":
                smtp.starttls(context=self._tls())
            if self.settings.username is not None:
                smtp.login(self.settings.username, self.settings.password or "")
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise NotSent(self._clean(f"recipient refused: {_reply(code, text)}"), permanent=code >= 500) from None
        except smtplib.SMTPDataError as exc:
            raise NotSent(
                self._clean(f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}"), permanent=exc.smtp_code >= 500
            ) from None
        except smtplib.SMTPResponseException as exc:  # greeting, TLS, login, sender: not about this message
            raise NotSent(self._clean(f"{type(exc).__name__}: {_reply(exc.smtp_code, exc.smtp_error)}")) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = self._clean(f"{type(exc).__name__}: {exc}")
            if smtp is not None and smtp.data_started:
                raise MaybeSent(f"the connection broke after the message went out: {reason}") from None
            raise NotSent(reason) from None
        finally:
            if smtp is not None:
                self._close(smtp)

    def _clean(self, text: str) -> str:
        return self.settings.scrub(text)

    @staticmethod
    def _close(smtp: _SMTP) -> None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()  # the message's fate is already decided; a failed goodbye changes nothing


def make_mailer(config: Mapping[str, Any]) -> Mailer:
    """The mailer ``MAIL_URL`` and ``MAIL_FROM`` describe (ConfigError when they are malformed).
    Nothing connects here: a connection is opened per message, when it is sent."""
    identity = identity_from(config)
    settings = parse_mail_url(config.get("MAIL_URL"))
    if settings is None:
        return UnconfiguredMailer(identity)
    return SmtpMailer(settings, identity)
