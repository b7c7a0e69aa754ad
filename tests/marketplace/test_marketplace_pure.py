"""Pure pieces of the marketplace: input schemas, sniffing, cursors, contract rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.errors import ValidationProblem
from app.marketplace import catalogue, contracts
from app.marketplace.schemas import OfferIn, OwnersIn
from app.marketplace.storage import sniff_image, sniff_recording
from app.paging import decode_cursor, encode_cursor
from app.validation import MoneyIn, parse, validation_problem


@pytest.mark.parametrize("amount", [1.0, 1.5, "100", True, -1, 10**14, None])
def test_money_must_be_a_non_negative_integer(amount):
    with pytest.raises(ValidationError):
        MoneyIn.model_validate({"amount_minor": amount, "currency": "USD"})


@pytest.mark.parametrize("currency", ["usd", "XXX", "US", "", "BTC"])
def test_unknown_currencies_are_refused(currency):
    with pytest.raises(ValidationError):
        MoneyIn.model_validate({"amount_minor": 1, "currency": currency})


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6))
def test_owner_shares_must_sum_to_10000(shares):
    data = {"owners": [{"user_id": i + 1, "share_bps": s} for i, s in enumerate(shares)]}
    if sum(shares) == 10_000:
        assert parse(OwnersIn, data)
    else:
        with pytest.raises(ValidationProblem) as exc:
            parse(OwnersIn, data)
        assert "owners" in exc.value.errors


def test_validation_problem_names_nested_fields():
    with pytest.raises(ValidationError) as exc:
        OfferIn.model_validate(
            {
                "template_id": 1,
                "media": ["web"],
                "territories": ["US"],
                "term_days": 1,
                "upfront_fee": {"amount_minor": 1, "currency": "USD"},
                "per_use_royalty": {"amount_minor": 2.5, "currency": "USD"},
            }
        )
    problem = validation_problem(exc.value)
    assert problem.status == 422 and list(problem.errors) == ["per_use_royalty.amount_minor"]


@pytest.mark.parametrize(
    "data,kind",
    [
        (b"\x89PNG\r\n\x1a\n rest", "image/png"),
        (b"\xff\xd8\xff\xe0 jfif", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a", None),
        (b"<svg/>", None),
        (b"", None),
    ],
)
def test_image_sniffing(data, kind):
    assert sniff_image(data) == kind


def test_recording_sniffing():
    assert sniff_recording(b"\x00\x00\x00\x18ftypmp42") == "video/mp4"
    assert sniff_recording(b"\x1a\x45\xdf\xa3....") == "video/webm"
    assert sniff_recording(b"\x89PNG\r\n\x1a\n") is None


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_cursor_round_trip(last_id):
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize("cursor", ["", "!!!", "aWQ6LTE", "eDox", "aWQ6OTk5OTk5OTk5OTk5"])
def test_foreign_cursors_are_refused(cursor):
    with pytest.raises(ValidationProblem):
        decode_cursor(cursor)


def test_every_seed_template_renders_and_names_the_intended_uses():
    sources = catalogue.template_sources()
    assert {s["slug"] for s in sources} >= {
        "social-media-remix",
        "advertising-campaign",
        "exclusive-ambassador",
        "editorial-news",
    }
    for source in sources:
        assert contracts.check_template(source["body"]) is None
        assert "{{ intended_use }}" in source["body"] and "revocation_notice_days" in source["body"]


def test_templates_cannot_reach_outside_the_sandbox():
    assert contracts.check_template("{{ ''.__class__.__mro__[1].__subclasses__() }}") is not None
    assert contracts.check_template("{{ not_a_parameter }}") is not None
