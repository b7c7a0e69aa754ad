"""A reused event id with other content is a conflict, not a duplicate (issue #14.2).

The same event id with the same content is the same use: ``duplicate``, with its
original receipt.  With other content it is another use the brand mislabelled: the
event is rejected (``event_id_conflict``), nothing is recorded or posted, and the rest
of a batch goes on as if it were not there.  Both paths are covered: licence 1 has a
usage cap (what was recorded before is looked up first), licence 3 has none (the
unique constraint answers, then the stored use is compared).
"""

from __future__ import annotations

import json

import pytest

from .test_usage_api import _a_day_later, balances, ev, post

LICENCES = [pytest.param(("dana", 1), id="capped"), pytest.param(("eli", 3), id="uncapped")]


def usage_rows(world) -> list[tuple]:
    return world.sql("SELECT event_id, quantity FROM mt_usage_event ORDER BY id")


@pytest.mark.parametrize("who_licence", LICENCES)
def test_the_same_id_with_another_quantity_is_rejected_and_hides_nothing(world, who_licence):
    who, licence_id = who_licence
    first = post(world, who, ev("nw-0001", licence_id, quantity=1))
    assert first.status_code == 200
    receipt = first.get_json()["results"][0]["receipt"]
    books = balances(world)

    same = post(world, who, ev("nw-0001", licence_id, quantity=1)).get_json()["results"][0]
    assert same["status"] == "duplicate" and same["receipt"] == receipt

    other = post(world, who, ev("nw-0001", licence_id, quantity=5))
    assert other.status_code == 207
    [result] = other.get_json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "event_id_conflict")
    assert "receipt" not in result and "usage_id" not in result
    assert "new event_id" in result["detail"]
    assert usage_rows(world) == [("nw-0001", 1)]
    assert balances(world) == books  # nothing posted


@pytest.mark.parametrize("who_licence", LICENCES)
def test_in_a_batch_only_the_conflicting_event_is_rejected(world, who_licence):
    who, licence_id = who_licence
    post(world, who, ev("old", licence_id))
    body = post(
        world,
        who,
        {
            "events": [
                ev("old", licence_id, content_sha256="cd" * 32),  # another use under a used id
                ev("new-1", licence_id),
                ev("new-2", licence_id, quantity=2),
                ev("new-2", licence_id, quantity=3),  # the same id twice in one batch, saying two things
                ev("new-1", licence_id),  # a plain repeat within the batch
            ]
        },
    ).get_json()
    assert [(r["status"], r.get("reason")) for r in body["results"]] == [
        ("rejected", "event_id_conflict"),
        ("accepted", None),
        ("accepted", None),
        ("rejected", "event_id_conflict"),
        ("duplicate", None),
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    assert body["results"][4]["receipt"] == body["results"][1]["receipt"]
    assert sorted(usage_rows(world)) == [("new-1", 1), ("new-2", 2), ("old", 1)]


def test_a_different_time_territory_or_url_is_other_content_too(world):
    post(world, "eli", ev("t-1", 3))
    for change in (
        {"occurred_at": "2026-10-16T09:31:00Z"},
        {"territory": "IE"},
        {"media": "tv"},
        {"kind": "publication"},
        {"content_url": "https://lumen.example/film"},
    ):
        [result] = post(world, "eli", ev("t-1", 3, **change)).get_json()["results"]
        assert result["reason"] == "event_id_conflict", change
    [same] = post(world, "eli", ev("t-1", 3, occurred_at="2026-10-16T10:30:00+01:00")).get_json()["results"]
    assert same["status"] == "duplicate"  # the same instant, written in another offset


def test_the_api_documents_the_reason(world):
    doc = world.client.get("/api/v1/openapi.json").get_json()
    assert "event_id_conflict" in json.dumps(doc["components"]["schemas"]["UsageResultOut"])
    assert "event_id_conflict" in doc["components"]["schemas"]["UsageEventIn"]["properties"]["event_id"]["description"]
