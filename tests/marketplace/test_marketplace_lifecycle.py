"""The licence lifecycle through the API, legal and illegal transitions, consent and
its withdrawal, the audit trail and the signed contract downloads."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from app.errors import Conflict
from app.marketplace import licences
from app.marketplace.demo import DEMO_PREVIEW, DEMO_RECORDING
from app.marketplace.models import Licence
from tests.marketplace.world import problem

USE = "Six 20-second YouTube pre-roll ads for our hiking boots, shown in the US only, autumn 2026."


def offer_body(**overrides):
    body = {
        "template_id": 2,
        "media": ["web", "social"],
        "territories": ["US"],
        "term_days": 30,
        "exclusivity": False,
        "usage_cap": 100,
        "upfront_fee": {"amount_minor": 250000, "currency": "USD"},
        "per_use_royalty": {"amount_minor": 150, "currency": "USD"},
        "holdback_days": 14,
        "revocation_notice_days": 10,
        "requires_approval": True,
    }
    return body | overrides


def new_listed_cameo(world, who="ava", **fields):
    cameo = world.call(
        who, "POST", "/cameos", json={"kind": "voice", "title": "Fresh voice", "visibility": "licensed", **fields}
    ).get_json()
    consent(world, who, cameo["id"])
    assert world.call(who, "POST", f"/cameos/{cameo['id']}/list").status_code == 200
    return cameo["id"]


def consent(world, who, cameo_id):
    statement = world.call(who, "GET", f"/cameos/{cameo_id}/consent/statement").get_json()
    response = world.call(
        who,
        "POST",
        f"/cameos/{cameo_id}/consent",
        data={
            "recording": (io.BytesIO(DEMO_RECORDING), "me.webm"),
            "accept_statement": "true",
            "statement_sha256": statement["sha256"],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def licence_through_signing(world, cameo_id, **offer_overrides):
    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body(**offer_overrides)).get_json()
    lic = world.call("dana", "POST", f"/offers/{offer['id']}/licences", json={"intended_use": USE}).get_json()
    assert lic["status"] == "requested"
    lic = world.call("ava", "POST", f"/licences/{lic['id']}/approve").get_json()
    contract = world.call("dana", "GET", f"/licences/{lic['id']}/contract").get_json()
    for who in ("dana", "ava"):
        lic = world.call(
            who, "POST", f"/licences/{lic['id']}/sign", json={"contract_sha256": contract["sha256"]}
        ).get_json()
    return lic


def test_full_lifecycle_with_payment_and_expiry(world):
    cameo_id = new_listed_cameo(world)
    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body()).get_json()
    assert offer["commission_bps"] == world.app.config["COMMISSION_BPS"]
    assert offer["upfront_fee"] == {"amount_minor": 250000, "currency": "USD"}

    lic = world.call("dana", "POST", f"/offers/{offer['id']}/licences", json={"intended_use": USE}).get_json()
    lid = lic["id"]
    problem(world.call("dana", "GET", f"/licences/{lid}/contract"), 409)  # not rendered yet
    problem(world.call("dana", "POST", f"/licences/{lid}/sign", json={"contract_sha256": "a" * 64}), 409)

    lic = world.call("ava", "POST", f"/licences/{lid}/approve").get_json()
    assert lic["status"] == "approved"
    problem(world.call("ava", "POST", f"/licences/{lid}/approve"), 409)  # twice: illegal
    contract = world.call("dana", "GET", f"/licences/{lid}/contract").get_json()
    assert USE in contract["text"] and "2,500.00 USD" not in contract["text"] and "2500.00 USD" in contract["text"]
    assert "Dana" not in contract["text"] and "Northwind Outdoor" in contract["text"]

    before = world.fingerprint()
    body = problem(world.call("dana", "POST", f"/licences/{lid}/sign", json={"contract_sha256": "b" * 64}), 409)
    assert "contract_sha256" in body["errors"]
    assert world.fingerprint() == before

    world.clock.advance(hours=1)
    lic = world.call("dana", "POST", f"/licences/{lid}/sign", json={"contract_sha256": contract["sha256"]}).get_json()
    assert lic["status"] == "approved" and lic["brand_signed_at"] and not lic["creator_signed_at"]
    problem(world.call("dana", "POST", f"/licences/{lid}/sign", json={"contract_sha256": contract["sha256"]}), 409)
    lic = world.call("ava", "POST", f"/licences/{lid}/sign", json={"contract_sha256": contract["sha256"]}).get_json()
    assert lic["status"] == "signed"
    assert lic["owners"] == [{"user_id": 1, "share_bps": 10000}]
    problem(world.call("ava", "POST", f"/licences/{lid}/decline", json={}), 409)

    html = world.call("dana", "GET", f"/licences/{lid}/contract.html")
    assert html.status_code == 200 and contract["sha256"] in html.get_data(as_text=True)
    pdf = world.call("ava", "GET", f"/licences/{lid}/contract.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    now = world.clock.advance(hours=1)
    with world.services() as uow:
        licences.mark_paid(uow, lid, now, "pi_123")
        licences.mark_paid(uow, lid, now, "pi_123")  # a duplicate webhook: no change
        with pytest.raises(Exception) as other:
            licences.mark_paid(uow, lid, now, "pi_other")
        assert getattr(other.value, "status", None) == 409
        uow.commit()
    lic = world.call("dana", "GET", f"/licences/{lid}").get_json()
    assert lic["status"] == "active" and lic["paid_at"] and lic["activated_at"]

    with world.services() as uow:
        assert lid not in licences.expire_due(uow, world.clock.advance(days=29))
        assert lid in licences.expire_due(uow, world.clock.advance(days=1))
        uow.commit()
    assert world.call("dana", "GET", f"/licences/{lid}").get_json()["status"] == "expired"
    problem(world.call("ava", "POST", f"/licences/{lid}/revoke", json={}), 409)

    history = world.call("dana", "GET", f"/licences/{lid}/history").get_json()["items"]
    transitions = [(e["from_status"], e["to_status"]) for e in history if e["to_status"]]
    assert transitions == [
        (None, "requested"),
        ("requested", "approved"),
        ("approved", "signed"),
        ("signed", "paid"),
        ("paid", "active"),
        ("active", "expired"),
    ]
    rows = world.sql(
        "SELECT ip, user_agent FROM mk_audit_event WHERE object_type='licence' AND object_id=:i "
        "AND action='licence.sign'",
        i=lid,
    )
    assert sorted(r.user_agent for r in rows) == ["pytest-ava", "pytest-dana"]
    assert all(r.ip == "127.0.0.1" for r in rows)


def test_free_licence_is_active_at_signing_and_declines_are_final(world):
    cameo_id = new_listed_cameo(world)
    lic = licence_through_signing(world, cameo_id, upfront_fee={"amount_minor": 0, "currency": "USD"})
    assert lic["status"] == "active"

    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body()).get_json()
    req = world.call("eli", "POST", f"/offers/{offer['id']}/licences", json={"intended_use": USE}).get_json()
    assert (
        world.call("ava", "POST", f"/licences/{req['id']}/decline", json={"reason": "no"}).get_json()["status"]
        == "declined"
    )
    for action in ("approve", "decline", "revoke"):
        problem(world.call("ava", "POST", f"/licences/{req['id']}/{action}", json={}), 409)


def test_offer_without_approval_renders_at_request(world):
    cameo_id = new_listed_cameo(world)
    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body(requires_approval=False)).get_json()
    lic = world.call("dana", "POST", f"/offers/{offer['id']}/licences", json={"intended_use": USE}).get_json()
    assert lic["status"] == "approved" and lic["contract_sha256"]


def test_no_consent_no_listing(world):
    cameo = world.call(
        "ava", "POST", "/cameos", json={"kind": "pet", "title": "Rex", "visibility": "licensed"}
    ).get_json()
    body = problem(world.call("ava", "POST", f"/cameos/{cameo['id']}/list"), 409)
    assert body["errors"] == {"consent": "missing"}
    assert world.call("ava", "GET", f"/cameos/{cameo['id']}").get_json()["status"] == "draft"
    problem(world.call("dana", "GET", f"/cameos/{cameo['id']}"), 404)
    record = consent(world, "ava", cameo["id"])
    assert len(record["recording_sha256"]) == 64
    problem(
        world.call(
            "ava",
            "POST",
            f"/cameos/{cameo['id']}/consent",
            data={
                "recording": (io.BytesIO(DEMO_RECORDING), "again.webm"),
                "accept_statement": "true",
                "statement_sha256": record["statement_sha256"],
            },
            content_type="multipart/form-data",
        ),
        409,
    )
    assert world.call("ava", "POST", f"/cameos/{cameo['id']}/list").get_json()["status"] == "listed"
    stored = world.sql(
        "SELECT recording_path, signed_ip, signed_user_agent FROM mk_consent WHERE cameo_id=:c", c=cameo["id"]
    )[0]
    assert world.app.config["INSTANCE_PATH"] + "/uploads/" + stored.recording_path
    assert stored.signed_user_agent == "pytest-ava"


def test_consent_withdrawal_pauses_and_applies_each_licences_terms(world):
    cameo_id = new_listed_cameo(world)
    notice = licence_through_signing(
        world, cameo_id, upfront_fee={"amount_minor": 0, "currency": "USD"}, revocation_notice_days=10
    )
    immediate = licence_through_signing(
        world, cameo_id, upfront_fee={"amount_minor": 0, "currency": "USD"}, revocation_notice_days=0
    )
    unpaid = licence_through_signing(world, cameo_id)
    assert unpaid["status"] == "signed"
    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body()).get_json()
    pending = world.call("eli", "POST", f"/offers/{offer['id']}/licences", json={"intended_use": USE}).get_json()

    now = world.clock.advance(days=2)
    assert world.call("ava", "POST", f"/cameos/{cameo_id}/consent/withdraw").status_code == 200
    assert world.call("ava", "GET", f"/cameos/{cameo_id}").get_json()["status"] == "paused"
    status = {
        lid: world.call("gus", "GET", f"/licences/{lid}").get_json()
        for lid in (notice["id"], immediate["id"], unpaid["id"], pending["id"])
    }
    assert status[notice["id"]]["status"] == "active"
    assert status[notice["id"]]["ends_at"].startswith((now + timedelta(days=10)).date().isoformat())
    assert status[immediate["id"]]["status"] == "revoked"
    assert status[unpaid["id"]]["status"] == "revoked"
    assert status[pending["id"]]["status"] == "declined"
    problem(world.call("ava", "POST", f"/cameos/{cameo_id}/list"), 409)  # no consent, no listing
    problem(world.call("ava", "POST", f"/cameos/{cameo_id}/consent/withdraw"), 409)

    with world.services() as uow:
        assert notice["id"] not in licences.expire_due(uow, world.clock.advance(days=9))
        assert notice["id"] in licences.expire_due(uow, world.clock.advance(days=1))
        uow.commit()
    final = world.call("dana", "GET", f"/licences/{notice['id']}").get_json()
    assert final["status"] == "revoked" and final["end_reason"] == "consent withdrawn"


def test_revoke_with_notice_winds_down_once(world):
    cameo_id = new_listed_cameo(world)
    lic = licence_through_signing(world, cameo_id, upfront_fee={"amount_minor": 0, "currency": "USD"})
    wound = world.call("ava", "POST", f"/licences/{lic['id']}/revoke", json={"reason": "rebrand"}).get_json()
    assert wound["status"] == "active" and wound["revocation_requested_at"]
    problem(world.call("ava", "POST", f"/licences/{lic['id']}/revoke", json={}), 409)


def test_exclusive_licences_do_not_overlap(world):
    cameo_id = new_listed_cameo(world)
    licence_through_signing(world, cameo_id, exclusivity=True, upfront_fee={"amount_minor": 0, "currency": "USD"})
    offer = world.call("ava", "POST", f"/cameos/{cameo_id}/offers", json=offer_body()).get_json()
    req = world.call("eli", "POST", f"/offers/{offer['id']}/licences", json={"intended_use": USE}).get_json()
    before = world.fingerprint()
    problem(world.call("ava", "POST", f"/licences/{req['id']}/approve"), 409)
    assert world.fingerprint() == before


def test_blocked_categories_cannot_be_licensed(world):
    before = world.fingerprint()
    body = problem(
        world.call("dana", "POST", "/offers/1/licences", json={"intended_use": USE, "categories": ["gambling"]}), 422
    )
    assert "gambling" in body["errors"]["categories"]
    assert world.fingerprint() == before


def test_preview_upload_is_sniffed_and_served(world):
    ok = world.call(
        "ava",
        "PUT",
        "/cameos/1/preview",
        data={"file": (io.BytesIO(DEMO_PREVIEW), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200 and ok.get_json()["preview_content_type"] == "image/png"
    served = world.call("dana", "GET", "/cameos/1/preview")
    assert served.data == DEMO_PREVIEW and served.mimetype == "image/png"


def test_illegal_transitions_change_nothing(world):
    with world.services() as uow:
        active = uow.session.get(Licence, 1)
        assert active.status == "active"
    before = world.fingerprint()
    for who, action in (("ava", "approve"), ("ava", "decline")):
        problem(world.call(who, "POST", f"/licences/1/{action}", json={}), 409)
    problem(world.call("dana", "POST", "/licences/1/sign", json={"contract_sha256": "0" * 64}), 409)
    with world.services() as uow:
        with pytest.raises(Conflict, match="requested licence cannot be paid"):
            licences.mark_paid(uow, 2, world.clock(), "pi_x")  # requested, not signed
    assert world.fingerprint() == before
