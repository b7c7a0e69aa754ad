"""C2PA round trip: a receipt from the usage API embedded in a JPEG with c2pa-python
(test CA made here, ES256), read back and checked with the platform's keys."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timezone

import pytest

from app.clock import Clock
from app.kit.registry import provided
from app.metering.receipts import KeyStore
from app.seed import seed_demo

pytest.importorskip("c2pa")
from PIL import Image

from app.metering import provenance, receipts
from app.metering.testca import make_test_ca
from tests.metering.test_usage_db import event, report


@pytest.fixture
def setup(app, clock, tmp_path):
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    seed_demo(app, now=clock())
    clock.advance(days=1)
    [outcome] = report(app, "dana@northwind.example", [event("c2pa-1", 1, 1)], clock())
    material = make_test_ca(datetime.now(UTC))  # c2pa checks certificates against the system clock
    (tmp_path / "chain.pem").write_bytes(material.chain_pem)
    (tmp_path / "key.pem").write_bytes(material.key_pem)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 120, 60)).save(buffer, "JPEG")
    (tmp_path / "in.jpg").write_bytes(buffer.getvalue())
    return app, outcome.receipt.token, tmp_path


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["provenance", *map(str, args)])


def test_sign_and_verify_round_trip(setup):
    app, token, d = setup
    signed = cli(
        app,
        "sign",
        "--receipt",
        token,
        "--in",
        d / "in.jpg",
        "--out",
        d / "signed.jpg",
        "--cert",
        d / "chain.pem",
        "--key",
        d / "key.pem",
    )
    assert signed.exit_code == 0, (signed.output, signed.exception)
    checked = cli(app, "verify", d / "signed.jpg")
    assert checked.exit_code == 0, checked.output
    assert "OK: licensed use" in checked.output and "cawg.ai_generative_training=notAllowed" in checked.output
    result = provenance.verify_media(d / "signed.jpg", provided(KeyStore, app).public_key)
    assert result.receipt == token and result.ok and result.c2pa_state in ("Valid", "Trusted")
    assert result.training_mining["cawg.ai_training"] == {"use": "notAllowed"}


def test_receipt_file_and_development_certificate(setup):
    app, token, d = setup
    (d / "receipt.txt").write_text(token + "\n")
    signed = cli(app, "sign", "--receipt", f"@{d / 'receipt.txt'}", "--in", d / "in.jpg", "--out", d / "dev.jpg")
    assert signed.exit_code == 0, signed.output
    assert cli(app, "verify", d / "dev.jpg").exit_code == 0


def test_altered_image_or_forged_receipt_fails(setup, tmp_path):
    app, token, d = setup
    assert (
        cli(
            app,
            "sign",
            "--receipt",
            token,
            "--in",
            d / "in.jpg",
            "--out",
            d / "signed.jpg",
            "--cert",
            d / "chain.pem",
            "--key",
            d / "key.pem",
        ).exit_code
        == 0
    )
    data = bytearray((d / "signed.jpg").read_bytes())
    data[-20] ^= 0xFF  # inside the image data, after the manifest
    (d / "altered.jpg").write_bytes(bytes(data))
    altered = cli(app, "verify", d / "altered.jpg")
    assert altered.exit_code != 0 and "INVALID" in altered.output
    # a receipt signed by a key the platform never published: refused, and detected if embedded anyway
    _, forged = receipts.sign(
        receipts.KeyStore(tmp_path / "stranger"), {"receipt_id": "rcpt_f", "licence_id": 1}, now=provided(Clock, app)()
    )
    refused = cli(
        app,
        "sign",
        "--receipt",
        forged,
        "--in",
        d / "in.jpg",
        "--out",
        d / "forged.jpg",
        "--cert",
        d / "chain.pem",
        "--key",
        d / "key.pem",
    )
    assert refused.exit_code != 0 and "unknown_key" in refused.output
    material = json.loads(json.dumps({"chain": (d / "chain.pem").read_text(), "key": (d / "key.pem").read_text()}))
    provenance.sign_media(
        d / "in.jpg",
        d / "forged.jpg",
        forged,
        cert_chain_pem=material["chain"].encode(),
        key_pem=material["key"].encode(),
    )
    out = cli(app, "verify", d / "forged.jpg")
    assert out.exit_code != 0 and "unknown_key" in out.output
    plain = cli(app, "verify", d / "in.jpg")
    assert plain.exit_code != 0 and "no C2PA manifest" in plain.output
