"""Receipt signatures: canonical payload, compact token, key store and rotation (pure, no database)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timezone

import pytest

from app.metering import receipts
from app.metering.receipts import KeyStore, b64url, b64url_decode

NOW = datetime(2026, 10, 16, 9, 0, tzinfo=UTC)
PAYLOAD = {"receipt_id": "rcpt_1", "licence_id": 1, "quantity": 3, "content": {"url": "https://x.example/é"}}


def test_sign_and_check_round_trip(tmp_path):
    store = KeyStore(tmp_path / "keys")
    kid, token = receipts.sign(store, PAYLOAD, now=NOW)
    body, proof, sig = token.split(".")
    assert json.loads(b64url_decode(body)) == {**PAYLOAD, "kid": kid, "v": 2}
    assert b64url_decode(body) == receipts.canonical({**PAYLOAD, "kid": kid, "v": 2})  # canonical bytes are the leaf
    assert proof == ""  # a report of one use: the leaf is the root
    root = receipts.leaf_hash(b64url_decode(body))
    store.public_key(kid).verify(b64url_decode(sig), receipts.ROOT_CONTEXT + root)  # raises if not
    checked = receipts.check(token, store.public_key)
    assert checked.valid and checked.reason == "ok" and checked.payload["licence_id"] == 1
    assert oct((tmp_path / "keys" / f"{kid}.pem").stat().st_mode & 0o777) == "0o600"


def test_tampered_payload_or_signature_is_invalid(tmp_path):
    store = KeyStore(tmp_path / "keys")
    kid, token = receipts.sign(store, PAYLOAD, now=NOW)
    body, proof, sig = token.split(".")
    forged = receipts.canonical({**PAYLOAD, "quantity": 1, "kid": kid, "v": 2})
    assert receipts.check(f"{b64url(forged)}.{proof}.{sig}", store.public_key).reason == "bad_signature"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert receipts.check(f"{body}.{proof}.{flipped}", store.public_key).reason == "bad_signature"
    for junk in (
        "",
        "abc",
        "a.b.c",
        "!!.??",
        f"{body}.",
        f"{body}..",
        "e30.AAAA",
        "e30..AAAA",
        f"{body}.A.{sig}",
        f"{body}.{b64url(bytes(33))}.{sig}"[:-1],
        "a.b.c.d",
    ):
        assert not receipts.check(junk, store.public_key).valid, junk


@pytest.mark.parametrize("size", [2, 3, 5, 8, 13, 1000])
def test_every_receipt_of_a_batch_verifies_on_its_own_with_one_signature(tmp_path, size):
    store = KeyStore(tmp_path / "keys")
    payloads = [{**PAYLOAD, "receipt_id": f"rcpt_{i}"} for i in range(size)]
    _kid, tokens, root = receipts.sign_batch(store, payloads, now=NOW)
    assert len(tokens) == size and len({t.split(".")[2] for t in tokens}) == 1  # one signature for all
    for i, token in enumerate(tokens):
        checked = receipts.check(token, store.public_key)
        assert checked.valid and checked.payload["receipt_id"] == f"rcpt_{i}"
        body, proof, _ = token.split(".")
        assert (
            receipts.root_from_proof(
                receipts.leaf_hash(b64url_decode(body)), b64url_decode(proof, allow_empty=True)
            ).hex()
            == root
        )
        assert len(b64url_decode(proof, allow_empty=True)) <= 33 * math.ceil(math.log2(size))


def test_a_proof_cannot_be_moved_to_another_payload_or_altered(tmp_path):
    store = KeyStore(tmp_path / "keys")
    _, tokens, _ = receipts.sign_batch(store, [{**PAYLOAD, "receipt_id": f"rcpt_{i}"} for i in range(4)], now=NOW)
    (b0, p0, s0), (b1, p1, _) = tokens[0].split("."), tokens[1].split(".")
    assert receipts.check(f"{b1}.{p0}.{s0}", store.public_key).reason == "bad_signature"  # another leaf's path
    raw = bytearray(b64url_decode(p0))
    raw[0] ^= 1  # the sibling's side
    assert receipts.check(f"{b0}.{b64url(bytes(raw))}.{s0}", store.public_key).reason == "bad_signature"
    raw[0] = 7  # neither left nor right
    assert receipts.check(f"{b0}.{b64url(bytes(raw))}.{s0}", store.public_key).reason == "malformed"
    # an inner node presented as a leaf: leaves and nodes are hashed apart
    inner = b64url_decode(p1)[1:33]
    assert receipts.check(f"{b64url(inner)}.{b64url(b64url_decode(p0)[33:])}.{s0}", store.public_key).valid is False


def test_version_1_receipts_keep_verifying(tmp_path):
    store = KeyStore(tmp_path / "keys")
    kid, key = store.signing_key(NOW)
    body = receipts.canonical({**PAYLOAD, "kid": kid, "v": 1})
    token = f"{b64url(body)}.{b64url(key.sign(body))}"
    assert receipts.check(token, store.public_key).valid
    # a version 2 payload cannot pass as version 1 (nor the other way round)
    body2 = receipts.canonical({**PAYLOAD, "kid": kid, "v": 2})
    assert receipts.check(f"{b64url(body2)}.{b64url(key.sign(body2))}", store.public_key).reason == "malformed"
    assert (
        receipts.check(
            f"{b64url(body)}..{b64url(key.sign(receipts.ROOT_CONTEXT + receipts.leaf_hash(body)))}", store.public_key
        ).reason
        == "malformed"
    )


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
        assert receipts.check(old_token if jwk["kid"] == old_kid else new_token, lambda _k, key=key: key).valid


def test_a_worker_that_cached_old_keys_learns_a_rotated_key(tmp_path):
    a, b = KeyStore(tmp_path / "keys"), KeyStore(tmp_path / "keys")
    receipts.sign(a, PAYLOAD, now=NOW)
    receipts.sign(b, PAYLOAD, now=NOW)  # b loads a's key, does not make its own
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 1
    b.rotate(NOW)
    _, token = receipts.sign(b, PAYLOAD, now=NOW)
    assert receipts.check(token, a.public_key).valid
