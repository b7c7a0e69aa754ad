"""Requesting, approving, declining, signing and revoking licences through the pages."""

from __future__ import annotations

import re

from tests.web.conftest import html

USE = "Three 20-second YouTube pre-roll ads for the Lumen ring light, US and Canada, spring 2027."


def refused(site, response, status: int, message: str, before: str) -> None:
    assert response.status_code == status, (response.status_code, html(response)[:400])
    assert message in html(response), message
    assert site.fingerprint() == before


def test_request_form_is_for_brands_only(site):
    site.login("dana")
    page = html(site.get("/cameos/1"))
    assert "Request a licence" in page and 'name="intended_use"' in page
    site.login("ava")
    assert "Request a licence" not in html(site.get("/cameos/1"))
    before = site.fingerprint()
    refused(site, site.post("/cameos/1/request", {"offer_id": "2", "intended_use": USE}), 403, "brand", before)


def test_request_refuses_vague_or_out_of_offer_uses(site):
    site.login("eli")
    before = site.fingerprint()
    base = {"offer_id": "2", "intended_use": USE}
    refused(
        site,
        site.post("/cameos/1/request", {**base, "intended_use": "ads"}),
        422,
        "Describe the intended use in 40 to 4000 characters",
        before,
    )
    refused(
        site, site.post("/cameos/1/request", {**base, "intended_use": ""}), 422, "Describe the intended use.", before
    )
    refused(
        site,
        site.post("/cameos/1/request", {**base, "media": ["tv", "social"], "territories": ["WORLDWIDE"]}),
        422,
        "not part of the offer: WORLDWIDE",
        before,
    )  # offer 2 covers US and CA only
    refused(
        site,
        site.post("/cameos/1/request", {**base, "categories": ["political"]}),
        422,
        "blocked for this cameo: political",
        before,
    )
    refused(site, site.post("/cameos/1/request", {**base, "offer_id": "3"}), 422, "Not a valid choice", before)
    page = html(site.post("/cameos/1/request", {**base, "intended_use": "ads"}))
    assert 'aria-invalid="true"' in page and "ads</textarea>" in page  # the input is kept


def test_a_brand_requests_part_of_an_offer(site):
    site.login("dana")
    made = site.post(
        "/cameos/1/request",
        {"offer_id": "2", "intended_use": USE, "media": ["tv"], "territories": ["CA"], "categories": ["news"]},
    )
    assert made.status_code == 303
    licence_id = int(re.search(r"/licences/(\d+)$", made.headers["Location"]).group(1))
    [(status, media, territories, fee)] = site.sql(
        "SELECT status, media, territories, upfront_fee_minor FROM mk_licence WHERE id = :l", l=licence_id
    )
    assert status == "requested" and '"tv"' in media and '"web"' not in media and territories == '["CA"]'
    assert fee == 1_500_000
    assert "15,000.00 USD" in html(site.get(made.headers["Location"]))


def _sign(site, licence_id: int, **changes):
    page = html(site.get(f"/licences/{licence_id}"))
    digest = re.search(r'name="contract_sha256" type="hidden" value="([0-9a-f]{64})"', page).group(1)
    return site.post(f"/licences/{licence_id}/sign", {"contract_sha256": digest, "confirm": "y", **changes})


def test_approve_then_both_sign(site):
    site.login("ben")
    before = site.fingerprint()
    assert site.post("/licences/2/approve").status_code == 404  # not Ben's cameo
    assert site.fingerprint() == before
    site.login("ava")
    assert "Approve" in html(site.get("/creator"))
    assert site.post("/licences/2/approve").status_code == 303
    assert site.sql("SELECT status FROM mk_licence WHERE id = 2") == [("approved",)]
    before = site.fingerprint()
    refused(site, _sign(site, 2, confirm=""), 422, "Tick the box to sign the contract.", before)
    stale = site.post("/licences/2/sign", {"contract_sha256": "a" * 64, "confirm": "y"})
    assert stale.status_code == 303 and site.fingerprint() == before
    assert "The contract you read is not the current text" in html(site.get("/licences/2"))
    assert _sign(site, 2).status_code == 303
    site.login("eli")
    assert "#2" in html(site.get("/brand"))  # waiting for the brand's signature
    signed = _sign(site, 2)
    assert signed.status_code == 303
    page = html(site.get("/licences/2"))
    assert "Signed by both parties: the licence is signed." in page and "Contract (PDF)" in page
    [(creator_sig, brand_sig)] = site.sql("SELECT creator_signature, brand_signature FROM mk_licence WHERE id = 2")
    assert '"pytest-web"' in creator_sig and '"pytest-web"' in brand_sig
    assert site.get("/licences/2/contract.pdf").data.startswith(b"%PDF")


def test_decline_with_a_reason(site):
    site.login("ava")
    before = site.fingerprint()
    refused(
        site,
        site.post("/licences/2/decline", {"reason": "x" * 501}),
        422,
        "Field cannot be longer than 500 characters.",
        before,
    )
    assert site.post("/licences/2/decline", {"reason": "Not for TV, sorry"}).status_code == 303
    assert site.sql("SELECT status, end_reason FROM mk_licence WHERE id = 2") == [("declined", "Not for TV, sorry")]


def test_revoke_winds_down_under_the_contract(site):
    site.login("dana")
    before = site.fingerprint()
    assert site.post("/licences/1/revoke", {"reason": "mine"}).status_code == 403  # the brand cannot revoke
    assert site.fingerprint() == before
    site.login("ava")
    assert site.post("/licences/1/revoke", {"reason": "Rebranding"}).status_code == 303
    [(status, reason, ends_at)] = site.sql("SELECT status, end_reason, ends_at FROM mk_licence WHERE id = 1")
    assert (status, reason) == ("active", "Rebranding") and str(ends_at).startswith("2026-10-22")  # 7 days' notice
    again = site.post("/licences/1/revoke", {"reason": "again"})
    assert again.status_code == 303 and "already winding down" in html(site.get("/licences/1"))


def test_an_admin_may_revoke(site):
    site.login("gus")
    assert "Revoke licence" in html(site.get("/licences/3"))
    assert site.post("/licences/3/revoke", {"reason": "Policy breach"}).status_code == 303
    assert site.sql("SELECT status FROM mk_licence WHERE id = 3") == [("revoked",)]  # no notice period


def test_staff_overview_is_read_only(site):
    site.login("fay")
    page = html(site.get("/overview"))
    assert "Licences by status" in page and "500.00 USD" in page and "licence.request" in page
    assert '<form method="post" action="/licences' not in page
    assert site.post("/licences/2/approve").status_code == 403
    assert "Revoke licence" not in html(site.get("/licences/1"))  # accountants only read
