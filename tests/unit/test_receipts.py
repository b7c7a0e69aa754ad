"""Receipt signatures: canonical payload, compact token, key store and rotation (pure, no database)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from app.metering import receipts
from app.metering.receipts import KeyStore, b64url, b64url_decode

NOW = datetime(2026, 10, 16, 9, 0, tzinfo=timezone.utc)
PAYLOAD = {"receipt_id": "rcpt_1", "licence_id": 1, "quantity": 3, "content": {"url": "https://x.example/é"}}


def test_sign_and_check_round_trip(tmp_path):
    store = KeyStore(tmp_path / "keys")
    kid, token = receipts.sign(store, PAYLOAD, now=NOW)
    body, _, sig = token.partition(".")
    assert json.loads(b64url_decode(body)) == {**PAYLOAD, "kid": kid, "v": 1}
    assert b64url_decode(body) == receipts.canonical({**PAYLOAD, "kid": kid, "v": 1})  # canonical bytes are signed
    checked = receipts.check(token, store.public_key)
    assert checked.valid and checked.reason == "ok" and checked.payload["licence_id"] == 1
    assert oct((tmp_path / "keys" / f"{kid}.pem").stat().st_mode & 0o777) == "0o600"


def test_tampered_payload_or_signature_is_invalid(tmp_path):
    store = KeyStore(tmp_path / "keys")
    kid, token = receipts.sign(store, PAYLOAD, now=NOW)
    body, _, sig = token.partition(".")
    forged = receipts.canonical({**PAYLOAD, "quantity": 1, "kid": kid, "v": 1})
    assert receipts.check(f"{b64url(forged)}.{sig}", store.public_key).reason == "bad_signature"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert receipts.check(f"{body}.{flipped}", store.public_key).reason == "bad_signature"
    for junk in ("", "abc", "a.b.c", "!!.??", f"{body}.", "e30.AAAA"):
        assert not receipts.check(junk, store.public_key).valid


def test_unknown_key_is_invalid(tmp_path):
    _, token = receipts.sign(KeyStore(tmp_path / "theirs"), PAYLOAD, now=NOW)
    ours = KeyStore(tmp_path / "ours")
    receipts.sign(ours, PAYLOAD, now=NOW)
    checked = receipts.check(token, ours.public_key)
    assert not checked.valid and checked.reason == "unknown_key"


def test_rotation_keeps_old_receipts_valid_and_publishes_every_key(tmp_path):
    store = KeyStore(tmp_path / "keys")
    old_kid, old_token = receipts.sign(store, PAYLOAD, now=NOW)
    new_kid = store.rotate(NOW)
    assert new_kid != old_kid
    kid, new_token = receipts.sign(store, PAYLOAD, now=NOW)
    assert kid == new_kid
    other_process = KeyStore(tmp_path / "keys")  # e.g. another gunicorn worker
    assert receipts.check(old_token, other_process.public_key).valid
    assert receipts.check(new_token, other_process.public_key).valid
    jwks = other_process.jwks()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    current = [k for k in jwks["keys"] if k.get("current")]
    assert [k["kid"] for k in current] == [new_kid]
    for jwk in jwks["keys"]:
        assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
        key = receipts.public_key_from_jwk(jwk)
        assert receipts.check(old_token if jwk["kid"] == old_kid else new_token, lambda _k: key).valid


def test_a_worker_that_cached_old_keys_learns_a_rotated_key(tmp_path):
    a, b = KeyStore(tmp_path / "keys"), KeyStore(tmp_path / "keys")
    receipts.sign(a, PAYLOAD, now=NOW)
    receipts.sign(b, PAYLOAD, now=NOW)  # b loads a's key, does not make its own
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 1
    b.rotate(NOW)
    _, token = receipts.sign(b, PAYLOAD, now=NOW)
    assert receipts.check(token, a.public_key).valid
