"""Mail settings: where the SMTP server is (``MAIL_URL``) and who the mail is from (``MAIL_FROM``).

``MAIL_URL`` is one URL, so a deployment sets one variable::

    smtp://host:25                      plain SMTP (a local relay)
    smtp://user:pass@host:587?starttls=1  STARTTLS, then log in
    smtps://user:pass@host:465          TLS from the first byte
    …?timeout=10                        socket timeout in seconds (default 30)

Empty means mail is queued in the outbox but not sent.  User and password are
percent-decoded (``p%40ss`` is ``p@ss``).  A password is only sent over TLS, or to a
server on this machine.

The password is a secret: ``SmtpSettings`` keeps it out of its ``repr``, every message
about a setting shows the URL with the password replaced by ``***``, and
``SmtpSettings.scrub`` takes it out of any text (server replies, exception messages)
before that text is logged or stored.

``MailIdentity`` is what every message says about its origin: the ``From`` header and
the envelope sender, and the instance token inside each ``Message-ID``
(``<mail-42.3f9c…@example.com>``), an HMAC of ``SECRET_KEY``.  So Message-IDs of two
installations never collide, every process of one installation derives the same one
for the same message, and nothing about the key can be learnt from it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from app.config import ConfigError

Security = Literal["plain", "starttls", "tls"]
DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "tls": 465}
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_FROM = "Cameo Exchange <no-reply@cameo.localhost>"
REDACTED = "***"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def redacted_url(self) -> str:
        """The URL to show a person or a log: everything but the password."""
        scheme = "smtps" if self.security == "tls" else "smtp"
        user = ""
        if self.username is not None:
            user = quote(self.username, safe="") + (f":{REDACTED}" if self.password else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "?starttls=1" if self.security == "starttls" else ""
        return f"{scheme}://{user}{host}:{self.port}{query}"

    def scrub(self, text: str) -> str:
        """``text`` without the password in any spelling this module knows of."""
        if not self.password:
            return text
        for spelling in {self.password, quote(self.password, safe="")}:
            text = text.replace(spelling, REDACTED)
        return text


def _redact_raw(url: str) -> str:
    """A malformed MAIL_URL for an error message: the part before ``@`` may hold the password."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not shown: it may contain a password)" if "@" in url else repr(url)
    credentials, at, host = rest.rpartition("@")
    if not at:
        return repr(url)
    user = credentials.split(":", 1)[0]
    return repr(f"{scheme}://{user}:{REDACTED}@{host}")


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_mail_url(url: str | None) -> SmtpSettings | None:
    """``MAIL_URL`` → settings; None when empty (mail stays queued).  ConfigError says what is wrong."""
    url = (url or "").strip()
    if not url:
        return None
    shown = _redact_raw(url)

    def refuse(why: str) -> ConfigError:
        return ConfigError(
            f"MAIL_URL {shown}: {why}. Expected smtp://[user:pass@]host[:port][?starttls=1] "
            f"or smtps://[user:pass@]host[:port]"
        )

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise refuse("the scheme must be smtp or smtps")
    if parts.path not in ("", "/") or parts.fragment:
        raise refuse("there is nothing to say after the host and port but ?starttls=1 or ?timeout=N")
    if not parts.hostname:
        raise refuse("the host is missing")
    try:
        explicit_port = parts.port
    except ValueError:
        raise refuse("the port must be a number from 1 to 65535") from None
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - {"starttls", "timeout"})
    if unknown:
        raise refuse(f"unknown option {', '.join(unknown)}")
    starttls = options.get("starttls", "").lower()
    if starttls not in _TRUE + _FALSE:
        raise refuse("starttls must be 1 or 0")
    if parts.scheme == "smtps" and starttls in _TRUE:
        raise refuse("smtps:// already speaks TLS; starttls=1 is for smtp://")
    try:
        timeout = float(options.get("timeout") or DEFAULT_TIMEOUT_SECONDS)
    except ValueError:
        raise refuse("timeout must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise refuse("timeout must be between 0 and 600 seconds")
    security: Security = "tls" if parts.scheme == "smtps" else "starttls" if starttls in _TRUE else "plain"
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if password and security == "plain" and not _is_local(parts.hostname):
        raise refuse("a password is only sent over TLS (use smtps:// or ?starttls=1) or to this machine")
    return SmtpSettings(
        host=parts.hostname,
        port=explicit_port or DEFAULT_PORTS[security],
        security=security,
        username=username,
        password=password,
        timeout_seconds=timeout,
    )


@dataclass(frozen=True)
class MailIdentity:
    """Who the mail is from, and the instance token that makes its Message-IDs unique."""

    from_header: str  # e.g. "Cameo Exchange <no-reply@example.com>"
    envelope_from: str  # the bare address, for SMTP's MAIL FROM
    instance: str

    @property
    def domain(self) -> str:
        return self.envelope_from.rpartition("@")[2]

    def message_id(self, outbox_id: int) -> str:
        return f"<mail-{outbox_id}.{self.instance}@{self.domain}>"


def single_address(value: str) -> Address | None:
    """``value`` as exactly one mailbox (``a@b`` or ``Name <a@b>``); None if it is not one."""
    if not value or any(c in value for c in "\r\n\0"):
        return None
    found = getaddresses([value])
    if len(found) != 1:
        return None
    name, addr = found[0]
    local, at, domain = addr.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in addr) or "@" in local:
        return None
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError, HeaderParseError):
        return None


def instance_token(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"cameo-exchange mail Message-ID", hashlib.sha256).hexdigest()[:16]


def identity_from(config: Mapping[str, Any]) -> MailIdentity:
    """The identity of this installation's mail, from ``MAIL_FROM`` and ``SECRET_KEY``."""
    raw = (config.get("MAIL_FROM") or "").strip()
    if not raw and config.get("CAMEO_ENV") == "production" and config.get("MAIL_URL"):
        raise ConfigError(
            "MAIL_FROM must be set in production when MAIL_URL is, e.g. 'Cameo Exchange <no-reply@your-domain.example>'"
        )
    address = single_address(raw or DEFAULT_FROM)
    if address is None:
        raise ConfigError(f"MAIL_FROM must be one address, e.g. 'Cameo Exchange <no-reply@example.com>'; got {raw!r}")
    return MailIdentity(
        from_header=str(address), envelope_from=address.addr_spec, instance=instance_token(config["SECRET_KEY"])
    )
