"""POST /api/v1/usage and the usage listing/export, through the Flask test client on
the demo world (tests/marketplace/world.py):

  licence 1: Northwind (dana), cameo 1 (ava 100 %), social, WORLDWIDE, cap 500, 2.50 USD/use, 20 % commission
  licence 2: Lumen (eli), requested
  licence 3: Lumen (eli), cameo 2 (ben 70 % / chloe 30 %), web+tv, GB+IE, no cap, 5.00 EUR/use, ends 2026-11-14
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.db import Database
from app.kit.registry import provided
from ledger import Ledger
from tests.marketplace.world import problem

SHA = "ab" * 32
WHEN = "2026-10-16T09:30:00Z"


@pytest.fixture(autouse=True)
def _a_day_later(world):
    world.clock.advance(days=1)  # licences start at the fixture's "now"; uses happen the day after
    world.app.config["RATELIMIT_ENABLED"] = False


def ev(event_id: str, licence_id: int = 1, **over) -> dict:
    base = {
        "licence_id": licence_id,
        "event_id": event_id,
        "kind": "render",
        "quantity": 1,
        "occurred_at": WHEN,
        "territory": "US",
        "media": "social",
        "content_sha256": SHA,
    }
    if licence_id == 3:
        base.update(territory="GB", media="web")
    return base | over


def post(world, who, body):
    return world.call(who, "POST", "/usage", json=body)


def balances(world) -> dict[str, int]:
    with provided(Database, world.app).unit_of_work() as uow:
        codes = [r[0] for r in world.sql("SELECT code FROM ledger_account")]
        return {c: provided(Ledger, world.app).balance(uow.session, c).minor for c in codes}


def test_single_event_accepted_priced_and_posted(world):
    r = post(world, "dana", ev("evt-1", quantity=4))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["accepted"] == 1 and body["rejected"] == 0
    [res] = body["results"]
    assert res["status"] == "accepted" and res["price"] == {"amount_minor": 1000, "currency": "USD"}
    assert res["receipt"].count(".") == 2 and res["receipt_id"].startswith("rcpt_")
    assert "/verify/" in res["verify_url"]
    entries = world.sql("SELECT idempotency_key, kind FROM ledger_entry WHERE kind = 'usage.royalty'")
    assert entries == [("usage:1:evt-1", "usage.royalty")]
    b = balances(world)
    assert b["brand:1:receivable:USD"] == 1000
    assert b["creator:1:payable:USD"] == -800
    assert b["platform:revenue:commission:USD"] == -200


def test_batch_of_co_owned_licence_balances_to_the_cent(world):
    events = [ev(f"b-{i}", licence_id=3, quantity=q) for i, q in enumerate([1, 3, 7, 11])]
    r = post(world, "eli", {"events": events})
    assert r.status_code == 200 and r.get_json()["accepted"] == 4
    b = balances(world)
    total = 500 * 22
    commission = 2200  # 20 % of each price, half-even, summed
    assert b["brand:2:receivable:EUR"] == total
    assert b["platform:revenue:commission:EUR"] == -commission
    assert b["creator:2:payable:EUR"] + b["creator:3:payable:EUR"] == -(total - commission)
    assert b["creator:2:payable:EUR"] == -6160 and b["creator:3:payable:EUR"] == -2640
    assert sum(b.values()) == 0


def test_every_rejection_reason_in_one_mixed_batch(world):
    world.sql("SELECT 1")
    with provided(Database, world.app).engine.begin() as conn:  # a second active licence of Northwind, then revoked
        conn.exec_driver_sql("UPDATE mk_licence SET status='revoked' WHERE id = 3")
    events = [
        ev("ok-1"),  # accepted
        ev("x-unknown", licence_id=999),  # unknown_licence
        ev("x-notmine", licence_id=2),  # not_your_licence (Lumen's)
        ev("x-term", occurred_at="2026-10-14T00:00:00Z"),  # outside_term (before start)
        ev("x-territory", territory="XK") | {"territory": "FR"},  # WORLDWIDE covers FR: accepted
        ev("x-media", media="tv"),  # media_not_licensed
        ev("x-cap", quantity=600),  # usage_cap_exceeded (cap 500)
        ev("x-future", occurred_at="2026-10-20T00:00:00Z"),  # invalid (future)
    ]
    r = post(world, "dana", {"events": events})
    assert r.status_code == 207
    body = r.get_json()
    got = {x["event_id"]: (x["status"], x.get("reason")) for x in body["results"]}
    assert got == {
        "ok-1": ("accepted", None),
        "x-unknown": ("rejected", "unknown_licence"),
        "x-notmine": ("rejected", "not_your_licence"),
        "x-term": ("rejected", "outside_term"),
        "x-territory": ("accepted", None),
        "x-media": ("rejected", "media_not_licensed"),
        "x-cap": ("rejected", "usage_cap_exceeded"),
        "x-future": ("rejected", "invalid"),
    }
    assert [x["index"] for x in body["results"]] == list(range(len(events)))
    assert world.sql("SELECT count(*) FROM mt_usage_event")[0][0] == 2
    # the two accepted uses of licence 1 are one entry that says so, and both rows name it
    [(key, meta)] = world.sql("SELECT idempotency_key, metadata FROM ledger_entry WHERE kind='usage.royalty'")
    meta = json.loads(meta) if isinstance(meta, str) else meta
    assert meta["uses"] == 2 and meta["quantity"] == 2 and meta["licence_id"] == 1
    assert world.sql("SELECT DISTINCT ledger_key FROM mt_usage_event") == [(key,)]
    # Lumen: revoked, not active, territory
    r = post(world, "eli", {"events": [ev("l-rev", licence_id=3), ev("l-req", licence_id=2, media="web")]})
    got = {x["event_id"]: x.get("reason") for x in r.get_json()["results"]}
    assert got == {"l-rev": "licence_revoked", "l-req": "licence_not_active"}
    with provided(Database, world.app).engine.begin() as conn:
        conn.exec_driver_sql("UPDATE mk_licence SET status='active' WHERE id = 3")
    r = post(world, "eli", {"events": [ev("l-fr", licence_id=3, territory="FR")]})
    assert r.get_json()["results"][0]["reason"] == "territory_not_licensed"
    world.clock.advance(days=40)
    r = post(world, "eli", {"events": [ev("l-late", licence_id=3, occurred_at="2026-11-20T00:00:00Z")]})
    assert r.get_json()["results"][0]["reason"] == "outside_term"


def test_usage_cap_counts_existing_quantity(world):
    assert post(world, "dana", ev("c-1", quantity=499)).get_json()["accepted"] == 1
    r = post(world, "dana", {"events": [ev("c-2", quantity=1), ev("c-3", quantity=1)]})
    assert [x.get("reason") for x in r.get_json()["results"]] == [None, "usage_cap_exceeded"]
    assert world.sql("SELECT sum(quantity) FROM mt_usage_event WHERE licence_id = 1")[0][0] == 500


def test_same_event_twice_is_a_duplicate_with_the_original_receipt(world):
    first = post(world, "dana", ev("dup-1", quantity=2)).get_json()["results"][0]
    world.clock.advance(minutes=5)
    again = post(world, "dana", ev("dup-1", quantity=2)).get_json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["receipt"] == first["receipt"] and again["usage_id"] == first["usage_id"]
    in_batch = post(world, "dana", {"events": [ev("dup-2"), ev("dup-2")]}).get_json()
    assert [x["status"] for x in in_batch["results"]] == ["accepted", "duplicate"]
    assert in_batch["results"][0]["receipt"] == in_batch["results"][1]["receipt"]
    assert world.sql("SELECT count(*) FROM mt_usage_event")[0][0] == 2
    assert world.sql("SELECT count(*) FROM ledger_entry WHERE kind='usage.royalty'")[0][0] == 2


def test_other_brand_cannot_post_or_list(world):
    r = post(world, "eli", ev("steal", licence_id=1))
    assert r.status_code == 207 and r.get_json()["results"][0]["reason"] == "not_your_licence"
    assert post(world, "ava", ev("creator-posts")).get_json()["results"][0]["reason"] == "not_your_licence"
    post(world, "dana", ev("mine"))
    for who in ("eli", "chloe", "fay", "gus"):
        problem(world.call(who, "GET", "/licences/1/usage"), 404)
        problem(world.call(who, "GET", "/licences/1/usage.csv"), 404)
    problem(world.call(None, "GET", "/licences/1/usage"), 401)
    problem(world.call(None, "POST", "/usage", json=ev("anon")), 401)


def test_brand_and_creators_list_and_export(world):
    post(world, "eli", {"events": [ev(f"e-{i}", licence_id=3) for i in range(5)] + [ev("=cmd", licence_id=3)]})
    for who in ("eli", "ben", "chloe"):  # a report's uses are recorded in event id order
        page = world.call(who, "GET", "/licences/3/usage?limit=4").get_json()
        assert [i["event_id"] for i in page["items"]] == ["=cmd", "e-0", "e-1", "e-2"]
        rest = world.call(who, "GET", f"/licences/3/usage?limit=4&cursor={page['next_cursor']}").get_json()
        assert [i["event_id"] for i in rest["items"]] == ["e-3", "e-4"] and rest["next_cursor"] is None
        assert rest["items"][0]["receipt"] and rest["items"][0]["price"] == {"amount_minor": 500, "currency": "EUR"}
    r = world.call("ben", "GET", "/licences/3/usage.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 6 and rows[0]["price_minor"] == "500" and rows[0]["currency"] == "EUR"
    assert rows[0]["event_id"] == "'=cmd"  # no spreadsheet formulas
    problem(world.call("dana", "GET", "/licences/3/usage"), 404)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"events": [{"event_id": "a"}]}, "events.0.licence_id"),
        (ev("f") | {"quantity": 1.5}, "events.0.quantity"),
        (ev("f") | {"quantity": 2.0}, "events.0.quantity"),
        (ev("f") | {"quantity": "3"}, "events.0.quantity"),
        (ev("f") | {"quantity": 0}, "events.0.quantity"),
        (ev("f") | {"licence_id": "1"}, "events.0.licence_id"),
        (ev("f") | {"kind": "broadcast"}, "events.0.kind"),
        (ev("f") | {"occurred_at": "2026-10-16T09:30:00"}, "events.0.occurred_at"),
        (ev("f") | {"territory": "usa"}, "events.0.territory"),
        (ev("f") | {"content_sha256": None}, "events.0"),  # "content_sha256: give content_sha256 or content_url"
        (ev("f") | {"event_id": ""}, "events.0.event_id"),
        ({"events": []}, "events"),
        ({"events": [ev(f"n-{i}") for i in range(1001)]}, "events"),
        ({"events": "nope"}, "events"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(world, body, field):
    before = world.fingerprint()
    out = problem(post(world, "dana", body), 422)
    assert any(k.endswith(field) for k in out["errors"]), out["errors"]
    assert world.fingerprint() == before
    assert world.sql("SELECT count(*) FROM mt_usage_event")[0][0] == 0


def test_openapi_documents_usage(world):
    doc = world.client.get("/api/v1/openapi.json").get_json()
    post_op = doc["paths"]["/api/v1/usage"]["post"]
    assert {"200", "207", "422"} <= set(post_op["responses"])
    assert "/api/v1/licences/{licence_id}/usage.csv" in doc["paths"]
