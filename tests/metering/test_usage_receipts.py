"""Receipts from the usage API, verified at /verify/<receipt> (JSON and HTML) against
the keys published at /.well-known/cameo-receipt-keys.json; rotation from the CLI."""

from __future__ import annotations

import json

import pytest

from app.db import Database
from app.kit.registry import provided
from app.metering import receipts
from app.metering.receipts import b64url, b64url_decode
from tests.metering.test_usage_api import ev, post


@pytest.fixture(autouse=True)
def _a_day_later(world):
    world.clock.advance(days=1)
    world.app.config["RATELIMIT_ENABLED"] = False


def accepted(world, event_id: str, **over) -> dict:
    [res] = post(world, "dana", ev(event_id, **over)).get_json()["results"]
    assert res["status"] == "accepted", res
    return res


def verify(world, token: str) -> dict:
    r = world.client.get(f"/verify/{token}", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def test_valid_receipt_says_licensed_under_which_terms(world):
    res = accepted(world, "v-1", quantity=3, content_url="https://cdn.example/v1.mp4")
    out = verify(world, res["receipt"])
    assert out["valid"] and out["licensed"] and out["licence_live"] and out["recorded"]
    r = out["receipt"]
    assert (r["receipt_id"], r["event_id"], r["licence_id"], r["quantity"], r["price_minor"], r["currency"]) == (
        res["receipt_id"],
        "v-1",
        1,
        3,
        750,
        "USD",
    )
    assert r["brand_org_id"] == 1 and r["cameo_id"] == 1 and r["kind"] == "render"
    assert r["content"] == {"sha256": "ab" * 32, "url": "https://cdn.example/v1.mp4"}
    assert r["occurred_at"] == "2026-10-16T09:30:00.000000Z" and r["issued_at"].startswith("2026-10-16T12:00")
    assert out["licence"]["status"] == "active" and out["licence"]["media"] == ["social"]
    assert out["licence"]["contract_sha256"] == r["licence_contract_sha256"] and out["contract_matches"]
    # anyone can check it offline with the published key
    jwks = world.client.get("/.well-known/cameo-receipt-keys.json").get_json()
    [jwk] = [k for k in jwks["keys"] if k["kid"] == r["kid"]]
    assert receipts.check(res["receipt"], lambda _kid: receipts.public_key_from_jwk(jwk)).valid
    assert world.client.get(f"/verify/{res['receipt']}?format=json").get_json()["valid"]


def test_html_page(world):
    res = accepted(world, "v-html")
    page = world.client.get(f"/verify/{res['receipt']}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Valid." in text and res["receipt_id"] in text and "licence is live" in text
    bad = world.client.get("/verify/not-a-receipt", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Invalid." in bad


def test_tampered_receipt_is_invalid(world):
    res = accepted(world, "v-tamper", quantity=1)
    body, proof, sig = res["receipt"].split(".")
    payload = json.loads(b64url_decode(body))
    payload["quantity"] = 1000
    forged = f"{b64url(receipts.canonical(payload))}.{proof}.{sig}"
    out = verify(world, forged)
    assert not out["valid"] and out["reason"] == "bad_signature" and not out["licensed"] and out["receipt"] is None
    assert verify(world, "garbage")["reason"] == "malformed"


def test_unknown_key_is_invalid(world, tmp_path):
    stranger = receipts.KeyStore(tmp_path / "stranger")
    _, token = receipts.sign(stranger, {"receipt_id": "rcpt_x", "licence_id": 1}, now=world.clock())
    out = verify(world, token)
    assert not out["valid"] and out["reason"] == "unknown_key"


def test_revoked_licence_valid_signature_but_not_live(world):
    res = accepted(world, "v-rev")
    with provided(Database, world.app).engine.begin() as conn:
        conn.exec_driver_sql("UPDATE mk_licence SET status='revoked' WHERE id = 1")
    out = verify(world, res["receipt"])
    assert out["valid"] and out["licensed"] and not out["licence_live"]
    assert out["licence"]["status"] == "revoked"
    html = world.client.get(f"/verify/{res['receipt']}").get_data(as_text=True)
    assert "no longer live" in html


def test_rotate_key_cli_old_receipts_stay_valid(world):
    old = accepted(world, "v-old")
    result = world.app.test_cli_runner().invoke(args=["receipts", "rotate-key"])
    assert result.exit_code == 0, result.output
    new = accepted(world, "v-new")
    old_kid = json.loads(b64url_decode(old["receipt"].split(".")[0]))["kid"]
    new_kid = json.loads(b64url_decode(new["receipt"].split(".")[0]))["kid"]
    assert old_kid != new_kid and new_kid in result.output
    assert verify(world, old["receipt"])["valid"] and verify(world, new["receipt"])["valid"]
    kids = {k["kid"] for k in world.client.get("/.well-known/cameo-receipt-keys.json").get_json()["keys"]}
    assert kids == {old_kid, new_kid}
    listed = world.app.test_cli_runner().invoke(args=["receipts", "keys"])
    assert old_kid in listed.output and new_kid in listed.output


def test_a_batchs_receipts_share_one_signature_and_are_anchored_in_its_ledger_entry(world):
    events = [ev(f"anchor-{i}") for i in range(5)]
    results = post(world, "dana", {"events": events}).get_json()["results"]
    tokens = [res["receipt"] for res in results]
    assert len({t.split(".")[2] for t in tokens}) == 1  # one signature for the report
    [(meta,)] = world.sql("SELECT metadata FROM ledger_entry WHERE kind = 'usage.royalty'")
    meta = json.loads(meta) if isinstance(meta, str) else meta
    assert meta["uses"] == 5
    for token in tokens:
        assert verify(world, token)["recorded"]
        body, proof, _ = token.split(".")
        leaf = receipts.leaf_hash(b64url_decode(body))
        assert receipts.root_from_proof(leaf, b64url_decode(proof, allow_empty=True)).hex() == meta["receipts_root"]
    # someone else's receipt for the same use is not the one on record
    body, proof, sig = tokens[0].split(".")
    assert not verify(world, f"{tokens[1].split('.')[0]}.{proof}.{sig}")["recorded"]
