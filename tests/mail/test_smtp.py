"""The SMTP path itself: login, STARTTLS and implicit TLS against a real server, certificates
checked, and the MAIL_URL password in no log line and no stored error."""

from __future__ import annotations

import ipaddress
import logging
import ssl
from datetime import UTC, datetime, timedelta, timezone

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.mail.sending import send_pending

from .support import queue, row, smtp_mailer

USER, PASSWORD, ENCODED = "cameo", "s3cr3t/p@ss", "s3cr3t%2Fp%40ss"


def only(user: str, password: str):
    """An aiosmtpd authenticator that accepts one login."""

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 235 or 535 itself

    return authenticator


@pytest.fixture
def tls(tmp_path):
    """A self-signed certificate for 127.0.0.1: the server's context and a client context that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    issued = datetime.now(UTC)  # certificate validity is wall-clock time, not the product's clock
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued - timedelta(hours=1))
        .not_valid_after(issued + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


def _secret_free(text: str) -> bool:
    return PASSWORD not in text and ENCODED not in text and "s3cr3t" not in text


def test_login_works_and_the_password_appears_in_no_log_and_no_stored_error(db, make_sink, clock, caplog):
    sink = make_sink(authenticator=only(USER, PASSWORD), auth_require_tls=False)
    right = smtp_mailer(f"smtp://{USER}:{ENCODED}@127.0.0.1:{sink.port}")
    wrong = smtp_mailer(f"smtp://{USER}:{ENCODED}x@127.0.0.1:{sink.port}")
    down = smtp_mailer(f"smtp://{USER}:{ENCODED}@127.0.0.1:{sink.port}")
    first = queue(db, "a", clock.now)

    with caplog.at_level(logging.DEBUG):
        refused = send_pending(db, wrong, now=clock.now)
        assert refused.retrying == (first.id,)  # a login refusal is our configuration: keep the mail
        assert "535" in row(db, first.id).last_error
        accepted = send_pending(db, right, now=clock.advance(minutes=1))
        assert accepted.sent == (first.id,)
        sink.stop()
        second = queue(db, "b", clock.now)
        assert send_pending(db, down, now=clock.now).retrying == (second.id,)

    assert len(sink.messages()) == 1
    assert caplog.records, "the sending path logs what it does"
    assert _secret_free(caplog.text)
    assert _secret_free(" ".join(str(r.last_error) for r in (row(db, first.id), row(db, second.id))))
    assert "***" in wrong.describe() and _secret_free(wrong.describe())


def test_starttls_with_a_checked_certificate(db, make_sink, clock, tls):
    server_context, client_context = tls
    sink = make_sink(
        tls_context=server_context, require_starttls=True, authenticator=only(USER, PASSWORD)
    )  # AUTH is only offered after STARTTLS
    queued = queue(db, "tls:1", clock.now)

    mailer = smtp_mailer(f"smtp://{USER}:{ENCODED}@127.0.0.1:{sink.port}?starttls=1", tls_context=client_context)
    assert send_pending(db, mailer, now=clock.now).sent == (queued.id,)
    assert len(sink.messages()) == 1


def test_implicit_tls_and_an_untrusted_certificate_is_not_sent_to(db, make_sink, clock, tls):
    server_context, client_context = tls
    sink = make_sink(ssl_context=server_context)
    queued = queue(db, "tls:2", clock.now)
    url = f"smtps://127.0.0.1:{sink.port}"

    untrusting = smtp_mailer(url)  # the system's trust store does not know this certificate
    assert send_pending(db, untrusting, now=clock.now).retrying == (queued.id,)
    assert "CERTIFICATE_VERIFY_FAILED" in row(db, queued.id).last_error
    assert sink.messages() == []

    trusting = smtp_mailer(url, tls_context=client_context)
    assert send_pending(db, trusting, now=clock.advance(minutes=1)).sent == (queued.id,)
    assert len(sink.messages()) == 1
