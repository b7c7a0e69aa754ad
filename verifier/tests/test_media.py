"""``cameo-verify media``: a receipt inside a C2PA manifest, and the media's own hash.

Needs c2pa-python (the ``c2pa`` extra) and Pillow to draw a JPEG; both are in the
project's test environment.  The C2PA claim is signed with a throwaway ES256
certificate made here; the receipt inside with the scenario's receipt key."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta

import pytest
import scenario
from builder import sign_receipts

from cameo_verify.media import content_sha256

c2pa = pytest.importorskip("c2pa")
Image = pytest.importorskip("PIL.Image")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _certificate(name: str, key, issuer: x509.Name | None, signer, *, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)  # c2pa checks certificates against the real clock
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    usage.update({"key_cert_sign": True, "crl_sign": True} if ca else {"digital_signature": True})
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cameo-verify tests"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]), critical=False
        ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    return builder.sign(signer, hashes.SHA256())


def sign_jpeg(source: bytes, receipt: str, tmp_path) -> bytes:
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _certificate("test root", root_key, None, root_key, ca=True)
    leaf = _certificate("test signer", leaf_key, root.subject, root_key, ca=False)
    pem = serialization.Encoding.PEM
    info = c2pa.C2paSignerInfo(
        alg=c2pa.C2paSigningAlg.ES256,
        sign_cert=leaf.public_bytes(pem) + root.public_bytes(pem),
        private_key=leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ta_url=None,
    )
    manifest = {
        "claim_generator_info": [{"name": "cameo-verify-tests", "version": "1"}],
        "title": "in.jpg",
        "assertions": [{"label": "org.cameo-exchange.likeness-licence", "data": {"receipt": receipt}}],
    }
    (tmp_path / "in.jpg").write_bytes(source)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(json.dumps(manifest)) as builder:
        builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
        builder.sign_file(str(tmp_path / "in.jpg"), str(tmp_path / "out.jpg"), signer)
    return (tmp_path / "out.jpg").read_bytes()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def receipt_for(world, content: bytes) -> str:
    payload = scenario.payload("rcpt_media", "render-media", "2026-11-03T12:00:00.000000Z")
    payload["content"] = {"sha256": hashlib.sha256(content).hexdigest(), "url": None}
    [token], _ = sign_receipts(world.platform, "rk-new", [payload])
    return token


def test_media_carrying_its_receipt_verifies(cli, world, keys_file, tmp_path):
    source = jpeg()
    signed = sign_jpeg(source, receipt_for(world, source), tmp_path)
    assert content_sha256(signed) == hashlib.sha256(source).hexdigest() != hashlib.sha256(signed).hexdigest()
    run = cli("media", tmp_path / "out.jpg", "--keys", keys_file)
    assert run.code == 0, run.out
    assert "OK: out.jpg is the content receipt rcpt_media licensed" in run.out


def test_media_whose_receipt_licensed_other_content_fails(cli, world, keys_file, tmp_path):
    sign_jpeg(jpeg(), receipt_for(world, b"some other render"), tmp_path)
    run = cli("media", tmp_path / "out.jpg", "--keys", keys_file)
    assert run.code == 1 and "the media's content hash is" in run.out and "but the receipt licensed" in run.out


def test_media_without_a_manifest_fails(cli, keys_file, tmp_path):
    (tmp_path / "plain.jpg").write_bytes(jpeg())
    run = cli("media", tmp_path / "plain.jpg", "--keys", keys_file)
    assert run.code == 1 and "no readable C2PA manifest" in run.out


def test_without_the_c2pa_extra_the_message_says_how_to_get_it(cli, keys_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "c2pa", None)  # import c2pa now raises ImportError
    (tmp_path / "plain.jpg").write_bytes(jpeg())
    run = cli("media", tmp_path / "plain.jpg", "--keys", keys_file)
    assert run.code == 2 and "pip install 'cameo-verify[c2pa]'" in run.err
