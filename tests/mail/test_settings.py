"""MAIL_URL and MAIL_FROM: what they accept, what they refuse, and that the password never shows."""

from __future__ import annotations

import pytest

from app.config import ConfigError
from app.mail.mailer import SmtpMailer, UnconfiguredMailer, make_mailer
from app.mail.settings import SmtpSettings, identity_from, parse_mail_url

from ..conftest import make_test_app

PASSWORD = "s3cr3t/p@ss"
ENCODED = "s3cr3t%2Fp%40ss"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://127.0.0.1:8025", SmtpSettings("127.0.0.1", 8025)),
        ("smtp://relay.internal", SmtpSettings("relay.internal", 25)),
        ("smtp://relay.example.com?starttls=1", SmtpSettings("relay.example.com", 587, "starttls")),
        (
            f"smtp://cameo:{ENCODED}@relay.example.com:2587?starttls=true&timeout=5",
            SmtpSettings("relay.example.com", 2587, "starttls", "cameo", PASSWORD, 5.0),
        ),
        (f"smtps://cameo:{ENCODED}@smtp.example.com", SmtpSettings("smtp.example.com", 465, "tls", "cameo", PASSWORD)),
        (f"smtp://cameo:{ENCODED}@localhost:1025", SmtpSettings("localhost", 1025, "plain", "cameo", PASSWORD)),
        ("smtp://[::1]:2525", SmtpSettings("::1", 2525)),
    ],
)
def test_mail_url_forms(url, expected):
    assert parse_mail_url(url) == expected


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://mail.example.com", "scheme must be smtp or smtps"),
        ("smtp://", "host is missing"),
        (f"smtp://cameo:{ENCODED}@mail.example.com:99999", "port must be a number"),
        (f"smtp://cameo:{ENCODED}@mail.example.com:25x", "port must be a number"),
        (f"smtp://cameo:{ENCODED}@mail.example.com/inbox", "nothing to say after the host"),
        (f"smtp://cameo:{ENCODED}@mail.example.com?tls=1", "unknown option tls"),
        (f"smtp://cameo:{ENCODED}@mail.example.com?starttls=maybe", "starttls must be 1 or 0"),
        (f"smtps://cameo:{ENCODED}@mail.example.com?starttls=1", "already speaks TLS"),
        (f"smtp://cameo:{ENCODED}@mail.example.com?starttls=1&timeout=soon", "timeout must be a number"),
        (f"smtp://cameo:{ENCODED}@mail.example.com", "only sent over TLS"),
        (f"smtp://cameo:{PASSWORD}@mail.example.com", "MAIL_URL"),  # not even parseable: still hidden
    ],
)
def test_a_malformed_mail_url_is_refused_without_showing_the_password(url, why):
    with pytest.raises(ConfigError) as refused:
        parse_mail_url(url)
    message = str(refused.value)
    assert why in message
    assert PASSWORD not in message and ENCODED not in message and "s3cr3t" not in message


def test_the_password_stays_out_of_repr_and_the_shown_url():
    settings = parse_mail_url(f"smtps://cameo:{ENCODED}@smtp.example.com")
    assert "s3cr3t" not in repr(settings)
    assert settings.redacted_url() == "smtps://cameo:***@smtp.example.com:465"
    assert settings.scrub(f"535 bad credentials {PASSWORD} / {ENCODED}") == "535 bad credentials *** / ***"
    mailer = make_mailer({"MAIL_URL": f"smtps://cameo:{ENCODED}@smtp.example.com", "SECRET_KEY": "k"})
    assert isinstance(mailer, SmtpMailer) and "s3cr3t" not in mailer.describe()


def test_an_empty_mail_url_means_queued_but_not_sent():
    mailer = make_mailer({"MAIL_URL": "", "SECRET_KEY": "k"})
    assert isinstance(mailer, UnconfiguredMailer) and not mailer.enabled


def test_mail_from_and_the_message_id_it_gives():
    identity = identity_from({"MAIL_FROM": "Cameo Exchange <hello@cameo.example>", "SECRET_KEY": "key one"})
    assert (identity.from_header, identity.envelope_from) == (
        "Cameo Exchange <hello@cameo.example>",
        "hello@cameo.example",
    )
    assert identity.message_id(42) == f"<mail-42.{identity.instance}@cameo.example>"
    same_install = identity_from({"MAIL_FROM": "hello@cameo.example", "SECRET_KEY": "key one"})
    other_install = identity_from({"MAIL_FROM": "hello@cameo.example", "SECRET_KEY": "key two"})
    assert same_install.message_id(42) == identity.message_id(42) != other_install.message_id(42)
    assert "key" not in identity.instance
    default = identity_from({"SECRET_KEY": "k"})
    assert default.from_header == "Cameo Exchange <no-reply@cameo.localhost>"


@pytest.mark.parametrize(
    "config",
    [
        {"MAIL_FROM": "a@example.com, b@example.com"},
        {"MAIL_FROM": "not an address"},
        {"CAMEO_ENV": "production", "MAIL_URL": "smtp://relay.internal"},  # production needs a real From
    ],
)
def test_bad_or_missing_mail_from_is_refused(config):
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        identity_from({"SECRET_KEY": "k", **config})


def test_the_app_refuses_to_start_with_a_malformed_mail_url(sqlite_url, tmp_path, clock):
    with pytest.raises(ConfigError) as refused:
        make_test_app(sqlite_url, tmp_path, clock, MAIL_URL=f"smtp://cameo:{ENCODED}@mail.example.com")
    assert "s3cr3t" not in str(refused.value)
