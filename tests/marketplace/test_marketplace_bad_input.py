"""Bad input on every writing endpoint: a clear 4xx problem+json naming the field,
and nothing written."""

from __future__ import annotations

import io

import pytest

from app.marketplace.demo import DEMO_PREVIEW, DEMO_RECORDING
from tests.marketplace.world import problem

OFFER = {
    "template_id": 1,
    "media": ["web"],
    "territories": ["US"],
    "term_days": 30,
    "upfront_fee": {"amount_minor": 1000, "currency": "USD"},
    "per_use_royalty": {"amount_minor": 10, "currency": "USD"},
}
USE = "Three product videos on our website showing the cameo wearing our new rain jacket."


def offer(**changes):
    return {**OFFER, **changes}


CASES = [
    # (who, method, path, json, status, field)
    ("ava", "POST", "/cameos", {}, 422, "kind"),
    ("ava", "POST", "/cameos", {"kind": "ghost", "title": "x"}, 422, "kind"),
    ("ava", "POST", "/cameos", {"kind": "face", "title": 7}, 422, "title"),
    ("ava", "POST", "/cameos", {"kind": "face", "title": "x" * 121}, 422, "title"),
    ("ava", "POST", "/cameos", {"kind": "face", "title": "   "}, 422, "title"),
    ("ava", "POST", "/cameos", {"kind": "face", "title": "nul\u0000"}, 422, "title"),
    ("ava", "POST", "/cameos", {"kind": "face", "title": "x", "visibility": "everyone"}, 422, "visibility"),
    (
        "ava",
        "POST",
        "/cameos",
        {"kind": "face", "title": "x", "blocked_categories": ["knitting"]},
        422,
        "blocked_categories",
    ),
    ("ava", "POST", "/cameos", {"kind": "face", "title": "x", "approved_brand_ids": [999]}, 422, "approved_brand_ids"),
    ("ava", "POST", "/cameos", {"kind": "face", "title": "x", "owner": 2}, 422, "owner"),
    ("ava", "POST", "/cameos", ["not", "an", "object"], 422, "body"),
    ("ava", "PATCH", "/cameos/1", {"title": ""}, 422, "title"),
    ("ava", "PATCH", "/cameos/1", {"description": "d" * 4001}, 422, "description"),
    ("ava", "PUT", "/cameos/1/owners", {"owners": [{"user_id": 1, "share_bps": 6000}]}, 422, "owners"),
    (
        "ava",
        "PUT",
        "/cameos/1/owners",
        {"owners": [{"user_id": 1, "share_bps": 6000}, {"user_id": 2, "share_bps": 3000}]},
        422,
        "owners",
    ),
    (
        "ava",
        "PUT",
        "/cameos/1/owners",
        {"owners": [{"user_id": 1, "share_bps": 50.5}, {"user_id": 2, "share_bps": 9949.5}]},
        422,
        "owners.0.share_bps",
    ),
    (
        "ava",
        "PUT",
        "/cameos/1/owners",
        {"owners": [{"user_id": 1, "share_bps": 5000}, {"user_id": 4, "share_bps": 5000}]},
        422,
        "owners.1.user_id",
    ),
    ("ava", "PUT", "/cameos/1/owners", {"owners": [{"user_id": 2, "share_bps": 10000}]}, 422, "owners"),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": 10.5, "currency": "USD"}),
        422,
        "upfront_fee.amount_minor",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": 1000.0, "currency": "USD"}),
        422,
        "upfront_fee.amount_minor",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": "1000", "currency": "USD"}),
        422,
        "upfront_fee.amount_minor",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": -1, "currency": "USD"}),
        422,
        "upfront_fee.amount_minor",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": 10**15, "currency": "USD"}),
        422,
        "upfront_fee.amount_minor",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": 1, "currency": "XYZ"}),
        422,
        "upfront_fee.currency",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(upfront_fee={"amount_minor": 1, "currency": "usd"}),
        422,
        "upfront_fee.currency",
    ),
    (
        "ava",
        "POST",
        "/cameos/1/offers",
        offer(per_use_royalty={"amount_minor": 1, "currency": "EUR"}),
        422,
        "per_use_royalty",
    ),
    ("ava", "POST", "/cameos/1/offers", offer(template_id=999), 404, None),
    ("ava", "POST", "/cameos/1/offers", offer(media=[]), 422, "media"),
    ("ava", "POST", "/cameos/1/offers", offer(media=["telepathy"]), 422, "media.0"),
    ("ava", "POST", "/cameos/1/offers", offer(territories=["usa"]), 422, "territories.0"),
    ("ava", "POST", "/cameos/1/offers", offer(term_days=0), 422, "term_days"),
    ("ava", "POST", "/cameos/1/offers", offer(exclusivity="yes"), 422, "exclusivity"),
    ("ava", "POST", "/cameos/1/offers", offer(usage_cap=0), 422, "usage_cap"),
    ("ava", "POST", "/cameos/1/offers", offer(revocation_notice_days=-3), 422, "revocation_notice_days"),
    ("dana", "POST", "/offers/1/licences", {}, 422, "intended_use"),
    ("dana", "POST", "/offers/1/licences", {"intended_use": "ads"}, 422, "intended_use"),
    ("dana", "POST", "/offers/1/licences", {"intended_use": USE, "categories": ["space"]}, 422, "categories"),
    ("dana", "POST", "/offers/1/licences", {"intended_use": USE, "starts_on": "2020-01-01"}, 422, "starts_on"),
    ("dana", "POST", "/offers/1/licences", {"intended_use": USE, "starts_on": "tomorrow"}, 422, "starts_on"),
    ("dana", "POST", "/offers/1/licences", {"intended_use": USE, "organisation_id": 2}, 422, "organisation_id"),
    ("dana", "POST", "/licences/1/sign", {"contract_sha256": "xyz"}, 422, "contract_sha256"),
    ("dana", "POST", "/licences/1/sign", {}, 422, "contract_sha256"),
    ("ava", "POST", "/licences/1/revoke", {"reason": "r" * 501}, 422, "reason"),
    ("gus", "POST", "/templates", {"slug": "Bad Slug", "title": "t", "body": "b" * 60}, 422, "slug"),
    ("gus", "POST", "/templates", {"slug": "ok", "title": "t", "body": "{{ unknown_placeholder }}" * 3}, 422, "body"),
    ("gus", "POST", "/templates", {"slug": "ok", "title": "t", "body": "{% if %}" * 10}, 422, "body"),
    ("ava", "POST", "/tokens", {"name": ""}, 422, "name"),
    ("gus", "GET", "/cameos?limit=0", None, 422, "limit"),
    ("gus", "GET", "/cameos?limit=101", None, 422, "limit"),
    ("gus", "GET", "/cameos?limit=ten", None, 422, "limit"),
    ("gus", "GET", "/cameos?cursor=bm9wZQ", None, 422, "cursor"),
    ("gus", "GET", "/licences?status=lost", None, 422, "status"),
    ("gus", "GET", "/cameos/99999999999", None, 422, "cameo_id"),
]


@pytest.mark.parametrize("who,method,path,body,status,field", CASES, ids=[f"{c[1]} {c[2]} {c[5]}" for c in CASES])
def test_bad_json_input(world, who, method, path, body, status, field):
    before = world.fingerprint()
    answer = problem(world.call(who, method, path, json=body), status)
    if field:
        assert field in answer["errors"], answer
        assert answer["errors"][field]
    assert world.fingerprint() == before


def test_not_json_at_all(world):
    before = world.fingerprint()
    answer = problem(world.call("ava", "POST", "/cameos", data="kind=face", content_type="text/plain"), 422)
    assert answer["errors"]
    assert world.fingerprint() == before


def _upload(world, path, field, data, name="f.bin", **extra):
    return world.call(
        "ava",
        "PUT" if path.endswith("preview") else "POST",
        path,
        data={field: (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "data,status",
    [
        (b"GIF89a" + bytes(20), 415),  # a GIF is not accepted
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415),
        (b"", 422),
        (DEMO_PREVIEW[:8] + bytes(200), 413),  # a PNG, but over the limit
    ],
)
def test_bad_preview_upload(world, data, status):
    world.app.config["PREVIEW_MAX_BYTES"] = 100
    before = world.fingerprint()
    answer = problem(_upload(world, "/cameos/1/preview", "file", data, name="cute.png"), status)
    assert "file" in answer["errors"]
    assert world.fingerprint() == before


def test_missing_upload_field(world):
    before = world.fingerprint()
    answer = problem(world.call("ava", "PUT", "/cameos/1/preview", data={}, content_type="multipart/form-data"), 422)
    assert "file" in answer["errors"]
    assert world.fingerprint() == before


def test_bad_consent_uploads(world):
    cameo = world.call("ava", "POST", "/cameos", json={"kind": "face", "title": "Consent test"}).get_json()
    path = f"/cameos/{cameo['id']}/consent"
    digest = world.call("ava", "GET", f"{path}/statement").get_json()["sha256"]
    before = world.fingerprint()
    problem(_upload(world, path, "recording", DEMO_PREVIEW, accept_statement="true", statement_sha256=digest), 415)
    answer = problem(
        _upload(world, path, "recording", DEMO_RECORDING, accept_statement="false", statement_sha256=digest), 422
    )
    assert "accept_statement" in answer["errors"]
    answer = problem(
        _upload(world, path, "recording", DEMO_RECORDING, accept_statement="true", statement_sha256="f" * 64), 409
    )
    assert "statement_sha256" in answer["errors"]
    world.app.config["RECORDING_MAX_BYTES"] = 10
    problem(_upload(world, path, "recording", DEMO_RECORDING, accept_statement="true", statement_sha256=digest), 413)
    assert world.fingerprint() == before
