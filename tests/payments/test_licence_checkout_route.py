"""POST /api/v1/licences/<id>/checkout: the licensee brand gets a Stripe Checkout URL for a
signed licence's upfront fee; anything else is a 4xx problem+json and writes nothing."""

from __future__ import annotations

import pytest

from app.kit.registry import registry_of
from app.payments.gateway import PaymentGateway
from app.services import build
from tests.payments.harness import pay_world, seeded_sqlite

GOOD = {"success_url": "https://brand.example/paid", "cancel_url": "https://brand.example/back"}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def nothing_written(world) -> bool:
    return (
        world.count("licence_payment") == 0
        and world.emulator.objects("checkout.session") == []
        and world.count("mk_audit_event") == world.audit_before
    )


@pytest.fixture
def world(pay_world):
    pay_world.audit_before = pay_world.count("mk_audit_event")
    return pay_world


def test_the_brand_gets_a_checkout_url_and_asking_again_returns_the_same_session(world):
    licence_id = world.signed_licence(like=3, fee=12_345)
    first = world.checkout(licence_id)
    assert first.status_code == 201
    body = first.get_json()
    assert body["url"].endswith(f"/_emulator/checkout/{body['checkout_session_id']}")
    assert (body["licence_id"], body["amount_minor"], body["currency"]) == (licence_id, 12_345, "USD")
    again = world.checkout(licence_id).get_json()
    assert again == body and len(world.emulator.objects("checkout.session")) == 1
    session = world.emulator.objects("checkout.session")[0]
    assert session["metadata"] == {"kind": "licence_fee", "licence_id": str(licence_id)}
    requests = world.emulator.requests("POST", "/v1/checkout/sessions")
    assert [r["idempotency_key"] for r in requests] == [f"licence-checkout:{licence_id}:1"]
    payment = world.payment(licence_id)
    assert (payment.status, payment.checkout_session_id, payment.amount) == (
        "open",
        body["checkout_session_id"],
        12_345,
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"success_url": "javascript:alert(1)", "cancel_url": GOOD["cancel_url"]}, "success_url"),
        ({"success_url": GOOD["success_url"]}, "cancel_url"),
        ({**GOOD, "amount": 1}, "amount"),
        ({"success_url": "https://x.example/ a", "cancel_url": GOOD["cancel_url"]}, "success_url"),
        ({"success_url": 7, "cancel_url": GOOD["cancel_url"]}, "success_url"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(world, body, field):
    licence_id = world.signed_licence(like=3, fee=5_000)
    response = world.api("eli", "POST", f"/licences/{licence_id}/checkout", json=body)
    assert field in problem(response, 422)["errors"]
    assert nothing_written(world)


@pytest.mark.parametrize("who, status", [(None, 401), ("dana", 404), ("ben", 403), ("ava", 404)])
def test_only_the_licensee_brand_may_pay(world, who, status):
    licence_id = world.signed_licence(like=3, fee=5_000)
    problem(world.api(who, "POST", f"/licences/{licence_id}/checkout", json=GOOD), status)
    assert nothing_written(world)


def test_unknown_licence_is_404(world):
    problem(world.api("eli", "POST", "/licences/999999/checkout", json=GOOD), 404)
    problem(world.api("eli", "POST", "/licences/0/checkout", json=GOOD), 422)
    assert nothing_written(world)


def test_licences_not_awaiting_a_fee_are_409(world):
    active = 3  # the demo licence itself is active already
    problem(world.api("eli", "POST", f"/licences/{active}/checkout", json=GOOD), 409)
    free = world.signed_licence(like=3, fee=0)
    problem(world.api("eli", "POST", f"/licences/{free}/checkout", json=GOOD), 409)
    assert nothing_written(world)


def test_a_paid_licence_cannot_be_checked_out_again(world):
    world.forward()
    licence_id = world.signed_licence(like=3, fee=5_000)
    world.pay(licence_id)
    world.deliver()
    assert world.licence(licence_id).status == "active"
    problem(world.checkout(licence_id), 409)


def test_payment_provider_down_is_503_and_writes_nothing(world):
    licence_id = world.signed_licence(like=3, fee=5_000)
    world.emulator.inject_fault("error_500", method="POST", path_prefix="/v1/checkout/sessions", count=5)
    assert problem(world.checkout(licence_id), 503)["title"] == "Payment provider unavailable"
    assert world.count("licence_payment") == 0


def test_without_stripe_configuration_checkout_is_503(world, tmp_path):
    licence_id = world.signed_licence(like=3, fee=5_000)
    unconfigured = build({**world.app.config, "STRIPE_SECRET_KEY": ""})
    registry_of(world.app).provide_lazily(PaymentGateway, lambda: unconfigured.get(PaymentGateway))
    assert problem(world.checkout(licence_id), 503)["title"] == "Payments unavailable"
    assert nothing_written(world)


def test_a_session_left_behind_by_a_rolled_back_attempt_moves_on_to_the_next_key(world):
    """A session created under attempt 1's key with other URLs (our transaction rolled back after
    Stripe answered): the same key with new URLs is refused, so the service takes attempt 2."""
    licence_id = world.signed_licence(like=3, fee=5_000)
    world.gateway.create_checkout_session(
        amount=5_000,
        currency="USD",
        product_name=f"Licence #{licence_id} upfront fee",
        success_url="https://old.example/paid",
        cancel_url="https://old.example/back",
        idempotency_key=f"licence-checkout:{licence_id}:1",
        metadata={"kind": "licence_fee", "licence_id": str(licence_id)},
        client_reference_id=f"licence-{licence_id}",
    )
    response = world.checkout(licence_id)
    assert response.status_code == 201, response.get_json()
    assert world.payment(licence_id).checkout_attempt == 2
    keys = [r["idempotency_key"] for r in world.emulator.requests("POST", "/v1/checkout/sessions")]
    assert keys[-1] == f"licence-checkout:{licence_id}:2"
