"""Advances (minimum guarantees) as a licence option (issue #14.3): offered with the fee,
copied into the licence, written into the contract, and paid before the licence is active."""

from __future__ import annotations

from .test_marketplace_lifecycle import licence_through_signing, new_listed_cameo, offer_body
from .world import problem, world


def test_an_offer_with_an_advance_makes_a_licence_that_says_so_and_waits_for_it(world):
    cameo_id = new_listed_cameo(world)
    advance = {"amount_minor": 50_000, "currency": "USD"}
    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body(advance=advance))
    assert offer.status_code == 201, offer.get_json()
    assert offer.get_json()["advance"] == advance
    lic = licence_through_signing(world, cameo_id, advance=advance, upfront_fee={"amount_minor": 0, "currency": "USD"})
    assert lic["status"] == "signed"  # no fee, but the advance is due before any use
    assert lic["advance"] == advance
    contract = world.call("dana", "GET", f"/licences/{lic['id']}/contract").get_json()["text"]
    assert "an advance of 500.00 USD: a minimum\nguarantee" in contract
    assert "is then earned by the Licensor" in contract


def test_without_an_advance_the_contract_has_no_advance_clause(world):
    cameo_id = new_listed_cameo(world)
    lic = licence_through_signing(world, cameo_id)
    assert lic["advance"] == {"amount_minor": 0, "currency": "USD"}
    contract = world.call("dana", "GET", f"/licences/{lic['id']}/contract").get_json()["text"]
    assert "advance" not in contract and "All amounts are in USD.\n\n8. CONSENT" in contract


def test_an_advance_in_another_currency_is_refused(world):
    cameo_id = new_listed_cameo(world)
    before = world.fingerprint()
    body = offer_body(advance={"amount_minor": 100, "currency": "EUR"})
    out = problem(world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=body), 422)
    assert "advance" in str(out)
    assert world.fingerprint() == before
