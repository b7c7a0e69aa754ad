"""The authorisation matrix: every API route × every role, own vs someone else's
object.  A refused request answers 403 (visible but not yours) or 404 (not visible at
all, so nothing leaks), its body names nothing of the object, and no row changes."""

from __future__ import annotations

import pytest

from tests.marketplace.world import problem

ALL = ("ava", "ben", "chloe", "dana", "eli", "fay", "gus")
OFFER = {
    "template_id": 1,
    "media": ["web"],
    "territories": ["US"],
    "term_days": 30,
    "upfront_fee": {"amount_minor": 1000, "currency": "USD"},
    "per_use_royalty": {"amount_minor": 10, "currency": "USD"},
}
REQUEST = {"intended_use": "Three product videos on our website showing the cameo wearing our new rain jacket."}
TEMPLATE = {"slug": "test-template", "title": "Test", "body": "Licence {{ licence_id }} for {{ cameo_title }}. " * 3}


def expect(default: int, **by_user: int) -> dict[str, int]:
    return {who: by_user.get(who, default) for who in ALL}


# (method, path, json body, expected status per user, a secret the refusal must not reveal)
CASES = [
    # reads
    ("GET", "/me", None, expect(200), None),
    ("GET", "/cameos/1", None, expect(200, ben=404, chloe=404), "warm studio"),
    ("GET", "/cameos/3", None, expect(404, chloe=200, dana=200, fay=200, gus=200), "shiba"),
    ("GET", "/cameos/2", None, expect(200, ava=404), "baritone"),
    ("GET", "/cameos/1/consent", None, expect(200, ben=404, chloe=404), "recording_sha256"),
    ("GET", "/cameos/1/consent/statement", None, expect(403, ava=200, ben=404, chloe=404), "CONSENT"),
    ("GET", "/cameos/1/preview", None, expect(200, ben=404, chloe=404), None),
    ("GET", "/offers/1", None, expect(200, ben=404, chloe=404), "upfront_fee"),
    ("GET", "/offers/4", None, expect(404, chloe=200, dana=200, fay=200, gus=200), "upfront_fee"),
    ("GET", "/licences/1", None, expect(404, ava=200, dana=200, fay=200, gus=200), "hiking"),
    ("GET", "/licences/3", None, expect(404, ben=200, chloe=200, eli=200, fay=200, gus=200), "documentary"),
    ("GET", "/licences/1/history", None, expect(404, ava=200, dana=200, fay=200, gus=200), "licence.sign"),
    ("GET", "/licences/1/contract", None, expect(404, ava=200, dana=200, fay=200, gus=200), "hiking"),
    ("GET", "/licences/1/contract.html", None, expect(404, ava=200, dana=200, fay=200, gus=200), "hiking"),
    ("GET", "/licences/1/contract.pdf", None, expect(404, ava=200, dana=200, fay=200, gus=200), None),
    ("GET", "/licences/2/contract", None, expect(404, ava=409, eli=409, fay=409, gus=409), "ring light"),
    ("GET", "/audit", None, expect(403, fay=200, gus=200), "licence"),
    ("GET", "/templates/1", None, expect(200), None),
    ("GET", "/me/payouts", None, expect(403, ava=200, ben=200, chloe=200), "hold_reason"),
    # writes on cameo 1 (ava's)
    ("PATCH", "/cameos/1", {"title": "Taken over"}, expect(403, ava=200, ben=404, chloe=404), "warm studio"),
    (
        "PUT",
        "/cameos/1/owners",
        {"owners": [{"user_id": 1, "share_bps": 10000}]},
        expect(403, ava=200, ben=404, chloe=404),
        "warm studio",
    ),
    ("POST", "/cameos/1/pause", None, expect(403, ava=200, ben=404, chloe=404), "warm studio"),
    ("POST", "/cameos/1/consent/withdraw", None, expect(403, ava=200, ben=404, chloe=404), "warm studio"),
    ("POST", "/cameos/1/offers", OFFER, expect(403, ava=201, ben=404, chloe=404), "warm studio"),
    ("POST", "/offers/1/withdraw", None, expect(403, ava=200, ben=404, chloe=404), "upfront_fee"),
    ("POST", "/cameos", {"kind": "face", "title": "New"}, expect(403, ava=201, ben=201, chloe=201), None),
    ("POST", "/templates", TEMPLATE, expect(403, gus=201), None),
    # licences
    ("POST", "/offers/1/licences", REQUEST, expect(403, dana=201, eli=201), None),
    ("POST", "/offers/4/licences", REQUEST, expect(403, dana=201, eli=404), "shiba"),
    ("POST", "/licences/2/approve", None, expect(404, ava=200, eli=403, fay=403, gus=403), "ring light"),
    ("POST", "/licences/2/decline", {"reason": "no"}, expect(404, ava=200, eli=403, fay=403, gus=403), "ring light"),
    ("POST", "/licences/1/revoke", {"reason": "x"}, expect(404, ava=200, gus=200, dana=403, fay=403), "hiking"),
    (
        "POST",
        "/licences/2/sign",
        {"contract_sha256": "0" * 64},
        expect(404, ava=409, eli=409, fay=403, gus=403),
        "ring light",
    ),
]


@pytest.mark.parametrize("who", ALL)
@pytest.mark.parametrize("method,path,body,expected,secret", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_route_by_role(world, who, method, path, body, expected, secret):
    before = world.fingerprint()
    response = world.call(who, method, path, json=body)
    status = expected[who]
    if status < 400:
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        return
    body = problem(response, status)
    if secret:
        assert secret.lower() not in response.get_data(as_text=True).lower()
    assert "errors" not in body or status in (409, 422)
    assert world.fingerprint() == before, "a refused request changed rows"


@pytest.mark.parametrize("method,path", [(c[0], c[1]) for c in CASES])
def test_no_token_no_entry(world, method, path):
    before = world.fingerprint()
    problem(world.call(None, method, path, json={}), 401)
    assert world.fingerprint() == before


def test_lists_show_only_what_is_yours(world):
    def ids(who, path):
        return sorted(item["id"] for item in world.call(who, "GET", path).get_json()["items"])

    assert ids("ava", "/cameos") == [1]
    assert ids("ben", "/cameos") == [2]
    assert ids("chloe", "/cameos") == [2, 3]  # co-owner of Ben's cameo
    assert ids("dana", "/cameos") == [1, 2, 3]  # Miso is open to Northwind
    assert ids("eli", "/cameos") == [1, 2]
    assert ids("fay", "/cameos") == ids("gus", "/cameos") == [1, 2, 3]
    assert ids("ava", "/licences") == [1, 2]
    assert ids("ben", "/licences") == ids("chloe", "/licences") == [3]
    assert ids("dana", "/licences") == [1]
    assert ids("eli", "/licences") == [2, 3]
    assert ids("fay", "/licences") == [1, 2, 3]
    assert ids("dana", "/offers") == [1, 2, 3, 4]
    assert ids("eli", "/offers") == [1, 2, 3]
    assert ids("ava", "/offers") == [1, 2]
    assert ids("ava", "/tokens") != ids("ben", "/tokens")


def test_tokens_are_private(world):
    ava_token = world.call("ava", "GET", "/tokens").get_json()["items"][0]["id"]
    before = world.fingerprint()
    problem(world.call("ben", "DELETE", f"/tokens/{ava_token}"), 404)
    assert world.fingerprint() == before
    assert world.call("ava", "DELETE", f"/tokens/{ava_token}").get_json()["revoked_at"]
    problem(world.call("ava", "GET", "/me"), 401)


def test_withdrawn_offer_and_paused_cameo_vanish_for_brands(world):
    assert world.call("ava", "POST", "/cameos/1/pause").status_code == 200
    problem(world.call("eli", "GET", "/offers/1"), 404)
    problem(world.call("eli", "POST", "/offers/1/licences", json=REQUEST), 404)
    assert world.call("eli", "GET", "/cameos/1").status_code == 200  # it still holds licence 2 there
