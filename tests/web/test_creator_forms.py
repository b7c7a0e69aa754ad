"""The creator's forms: new cameo, consent, listing, permissions, co-owners, offers.
A refused form answers 4xx with the message in the page and writes nothing."""

from __future__ import annotations

import hashlib
import io
import re

import pytest

from app.marketplace import cameos, consent
from app.marketplace.schemas import CameoIn
from tests.web.conftest import PNG, WEBM, html


def refused(site, response, status: int, *messages: str, before: str) -> None:
    assert response.status_code == status, (response.status_code, html(response)[:400])
    body = html(response)
    for message in messages:
        assert message in body, message
    assert site.fingerprint() == before, "a refused form wrote something"


def draft(site, title: str = "Draft lamp") -> int:
    with site.services("ava") as (uow, ava):
        cameo = cameos.create_cameo(uow, ava, site.clock(), CameoIn(kind="object", title=title, visibility="licensed"))
        uow.commit()
        return cameo.id


def test_new_cameo(site):
    site.login("ava")
    before = site.fingerprint()
    refused(
        site,
        site.post("/creator/cameos/new", {"kind": "face", "title": " "}),
        422,
        "Give the cameo a title.",
        before=before,
    )
    refused(
        site,
        site.post("/creator/cameos/new", {"kind": "hologram", "title": "X"}),
        422,
        "Not a valid choice",
        before=before,
    )
    refused(
        site,
        site.post("/creator/cameos/new", {"kind": "face", "title": "X", "blocked_categories": "knitting"}),
        422,
        "is not a valid choice for this field",
        before=before,
    )
    # A bad preview refuses the whole form: the cameo is not created either.
    refused(
        site,
        site.post(
            "/creator/cameos/new",
            {
                "kind": "face",
                "title": "Not an image",
                "visibility": "licensed",
                "preview": (io.BytesIO(b"GIF89a-nope"), "x.png"),
            },
            content_type="multipart/form-data",
        ),
        415,
        "not a PNG, JPEG or WebP image",
        before=before,
    )
    made = site.post(
        "/creator/cameos/new",
        {
            "kind": "pet",
            "title": "Rex",
            "description": "A good dog",
            "visibility": "licensed",
            "blocked_categories": ["adult", "alcohol"],
            "preview": (io.BytesIO(PNG), "rex.png"),
        },
        content_type="multipart/form-data",
    )
    assert made.status_code == 303
    [(cameo_id, status, blocked, sha)] = site.sql(
        "SELECT id, status, blocked_categories, preview_sha256 FROM mk_cameo WHERE title = 'Rex'"
    )
    assert made.headers["Location"].endswith(f"/creator/cameos/{cameo_id}")
    assert status == "draft" and "alcohol" in blocked and sha == hashlib.sha256(PNG).hexdigest()
    assert "Record consent to list it" in html(site.get(made.headers["Location"]))


def test_only_creators_create_cameos(site):
    site.login("dana")
    before = site.fingerprint()
    refused(site, site.post("/creator/cameos/new", {"kind": "face", "title": "Mine"}), 403, "creator", before=before)


def _statement_hash(page: str) -> str:
    return re.search(r'name="statement_sha256" type="hidden" value="([0-9a-f]{64})"', page).group(1)


def test_consent_then_listing(site):
    cameo_id = draft(site)
    site.login("ava")
    url = f"/creator/cameos/{cameo_id}"
    page = html(site.get(url))
    assert "CONSENT TO LICENSE MY LIKENESS" in page
    digest = _statement_hash(page)
    before = site.fingerprint()
    # Listing without consent is refused (flashed) and changes nothing.
    listed = site.post(f"{url}/list")
    assert listed.status_code == 303 and site.fingerprint() == before
    assert "Record consent before listing" in html(site.get(url))

    def form(**changes):
        data = {"statement_sha256": digest, "accept_statement": "y", "recording": (io.BytesIO(WEBM), "me.webm")}
        data.update(changes)
        return site.post(
            f"{url}/consent", {k: v for k, v in data.items() if v is not None}, content_type="multipart/form-data"
        )

    refused(site, form(recording=None), 422, "Upload the liveness recording.", before=before)
    refused(site, form(accept_statement=None), 422, "Tick the box to sign the consent statement.", before=before)
    refused(
        site,
        form(recording=(io.BytesIO(b"just text"), "me.webm")),
        415,
        "not a video or audio recording",
        before=before,
    )
    refused(site, form(statement_sha256="0" * 64), 409, "does not match the current consent statement", before=before)
    assert form().status_code == 303
    [(signed_ip, agent, statement_sha)] = site.sql(
        "SELECT signed_ip, signed_user_agent, statement_sha256 FROM mk_consent WHERE cameo_id = :c", c=cameo_id
    )
    assert statement_sha == digest and agent == "pytest-web" and signed_ip
    assert site.post(f"{url}/list").status_code == 303
    assert site.sql("SELECT status FROM mk_cameo WHERE id = :c", c=cameo_id) == [("listed",)]
    assert site.post(f"{url}/pause").status_code == 303
    assert site.sql("SELECT status FROM mk_cameo WHERE id = :c", c=cameo_id) == [("paused",)]


def test_withdrawing_consent_pauses_and_ends_licences(site):
    site.login("ava")
    assert site.post("/creator/cameos/1/consent/withdraw").status_code == 303
    assert site.sql("SELECT status FROM mk_cameo WHERE id = 1") == [("paused",)]
    assert site.sql("SELECT status FROM mk_licence WHERE id = 2") == [("declined",)]
    assert "Record consent" in html(site.get("/creator/cameos/1")) or "Sign consent" in html(
        site.get("/creator/cameos/1")
    )


def test_permissions(site):
    site.login("ava")
    before = site.fingerprint()
    refused(
        site,
        site.post("/creator/cameos/1/permissions", {"visibility": "everyone"}),
        422,
        "Not a valid choice",
        before=before,
    )
    refused(
        site,
        site.post("/creator/cameos/1/permissions", {"visibility": "licensed", "approved_brand_ids": "999"}),
        422,
        "is not a valid choice for this field",
        before=before,
    )
    saved = site.post(
        "/creator/cameos/1/permissions",
        {"visibility": "approved_brands", "approved_brand_ids": ["2"], "blocked_categories": ["political", "crypto"]},
    )
    assert saved.status_code == 303
    assert site.sql("SELECT visibility, blocked_categories FROM mk_cameo WHERE id = 1")[0][0] == "approved_brands"
    assert site.sql("SELECT organisation_id FROM mk_cameo_approved_brand WHERE cameo_id = 1") == [(2,)]


def test_co_owners_and_shares(site):
    site.login("ava")
    before = site.fingerprint()

    def owners(*rows):
        data = {}
        for i, (email, share) in enumerate(rows):
            data[f"owners-{i}-email"], data[f"owners-{i}-share"] = email, share
        return site.post("/creator/cameos/1/owners", data)

    refused(
        site, owners(("nobody@example.com", "10")), 422, "nobody@example.com is not an active creator", before=before
    )
    refused(site, owners(("dana@northwind.example", "10")), 422, "is not an active creator", before=before)
    refused(site, owners(("chloe@creators.example", "100")), 422, "must leave you more than 0 %", before=before)
    refused(site, owners(("chloe@creators.example", "12.345")), 422, "with up to two decimals", before=before)
    refused(site, owners(("chloe@creators.example", "")), 422, "Enter the owner", before=before)
    refused(
        site,
        owners(("chloe@creators.example", "10"), ("CHLOE@creators.example", "5")),
        422,
        "a user may appear only once",
        before=before,
    )
    assert owners(("chloe@creators.example", "25.5")).status_code == 303
    assert site.sql("SELECT user_id, share_bps FROM mk_cameo_owner WHERE cameo_id = 1 ORDER BY user_id") == [
        (1, 7450),
        (3, 2550),
    ]
    assert 'value="25.5"' in html(site.get("/creator/cameos/1"))


OFFER = {
    "template_id": "1",
    "media": ["social", "web"],
    "territories": "us, gb",
    "term_days": "30",
    "usage_cap": "",
    "currency": "USD",
    "upfront_fee": "1234.50",
    "per_use_royalty": "0.25",
    "holdback_days": "0",
    "revocation_notice_days": "14",
    "requires_approval": "y",
}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"upfront_fee": "12.345"}, "more than 2 decimal places for USD"),
        ({"upfront_fee": "-5"}, "The amount must not be negative."),
        ({"per_use_royalty": "ten"}, "Enter an amount like 12.50"),
        ({"currency": "JPY", "upfront_fee": "1.5"}, "more than 0 decimal places for JPY"),
        ({"currency": "XXX"}, "Not a valid choice"),
        ({"territories": "usa"}, "Not a territory code: USA"),
        ({"territories": "US, US"}, "must not repeat an item"),
        ({"media": []}, "Choose at least one medium."),
        ({"term_days": "0"}, "Number must be between 1 and 3650."),
    ],
)
def test_offer_form_refuses_bad_terms(site, changes, message):
    site.login("ava")
    before = site.fingerprint()
    data = {k: v for k, v in {**OFFER, **changes}.items() if v != []}
    refused(site, site.post("/creator/cameos/1/offers", data), 422, message, before=before)


def test_offer_is_opened_and_withdrawn(site):
    site.login("ava")
    made = site.post("/creator/cameos/1/offers", OFFER)
    assert made.status_code == 303
    [(offer_id, fee, royalty, territories, currency)] = site.sql(
        "SELECT id, upfront_fee_minor, per_use_royalty_minor, territories, currency FROM mk_offer "
        "ORDER BY id DESC LIMIT 1"
    )
    assert (fee, royalty, currency) == (123450, 25, "USD") and '"GB"' in territories
    assert "1,234.50 USD" in html(site.get("/creator/cameos/1"))
    assert site.post(f"/creator/offers/{offer_id}/withdraw").status_code == 303
    assert site.sql("SELECT status FROM mk_offer WHERE id = :o", o=offer_id) == [("withdrawn",)]


def test_another_creators_cameo_cannot_be_changed(site):
    site.login("ben")
    before = site.fingerprint()
    for path in (
        "/creator/cameos/1/list",
        "/creator/cameos/1/pause",
        "/creator/cameos/1/consent/withdraw",
        "/creator/offers/1/withdraw",
    ):
        assert site.post(path).status_code == 404, path
    assert site.post("/creator/cameos/1/offers", OFFER).status_code == 404
    site.login("chloe")  # co-owner of Ben's cameo: sees it, may not manage it
    assert site.post("/creator/cameos/2/pause").status_code == 403
    assert site.fingerprint() == before


def test_consent_statement_helper_matches_the_page(site):
    cameo_id = draft(site, "Helper check")
    with site.services("ava") as (uow, ava):
        _, digest = consent.statement(uow, ava, cameo_id)
    site.login("ava")
    assert _statement_hash(html(site.get(f"/creator/cameos/{cameo_id}"))) == digest
