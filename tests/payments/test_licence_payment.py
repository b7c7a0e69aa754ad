"""Licence fee payments end to end, on SQLite and PostgreSQL: API checkout → emulator
payment → verified webhooks (duplicated, shuffled, out of order) → licence active and
the sale posted exactly once; refunds and disputes reverse it once per Stripe id.

Demo licence 3 is Ben's narrator cameo licensed to Lumen (Eli); it is co-owned by
Ben (70 %) and Chloe (30 %).  Copies of it in status ``signed`` await their fee.
Emulator fees: 2.9 % + 30 minor units; disputes cost 15.00.
"""

from __future__ import annotations

import json
import threading

from sqlalchemy import text

from app.books import chart, recipes
from app.clock import Clock
from app.db import Database
from app.kit.registry import provided
from ledger import Ledger
from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator
from tests.payments.harness import pay_world_any_db

FEE = 10_000  # USD 100.00 → Stripe fee 320, commission 2000, Ben 5600, Chloe 2400


def codes(world):
    ben, chloe = world.users["ben"], world.users["chloe"]
    return {
        "stripe": "platform:stripe:USD",
        "fees": "platform:fees:stripe:USD",
        "commission": "platform:revenue:commission:USD",
        "ben": chart.creator_payable(ben, "USD"),
        "chloe": chart.creator_payable(chloe, "USD"),
        "ben_rec": chart.creator_recoverable(ben, "USD"),
        "chloe_rec": chart.creator_recoverable(chloe, "USD"),
    }


def balances(world) -> dict[str, int]:
    return {name: world.balance(code) for name, code in codes(world).items()}


AFTER_SALE = {
    "stripe": 9_680,
    "fees": 320,
    "commission": -2_000,
    "ben": -5_600,
    "chloe": -2_400,
    "ben_rec": 0,
    "chloe_rec": 0,
}


def sale_entries(world):
    return [key for key, kind in world.entries() if kind == "licence.sale"]


def test_payment_webhooks_duplicated_and_shuffled_post_the_sale_exactly_once(pay_world_any_db):
    world = pay_world_any_db
    world.emulator.set_available_delay(0)  # compares the ledger with Stripe's *available* balance at once
    world.forward()
    licence_id = world.signed_licence(like=3, fee=FEE)
    intent = world.pay(licence_id)
    report = world.deliver(duplicate=True, shuffle=True)
    assert report.pending == 0 and report.failed == []
    assert sale_entries(world) == [f"licence-sale:{licence_id}"]
    assert balances(world) == AFTER_SALE
    assert world.balance("platform:stripe:USD") == world.emulator.available_balance("usd")
    licence = world.licence(licence_id)
    assert (licence.status, licence.payment_ref) == ("active", intent)
    payment = world.payment(licence_id)
    assert (payment.status, payment.payment_intent_id, payment.amount, payment.fee, payment.refunded_amount) == (
        "paid",
        intent,
        FEE,
        320,
        0,
    )
    assert payment.charge_id.startswith("ch_") and payment.sale_entry_seq is not None
    assert all(e.processed_at is not None for e in world.events().values())
    # Delivered again later (Stripe retries): nothing changes.
    for event in world.emulator.events():
        world.post_webhook(_payload(world, event["id"]), world.resign(_payload(world, event["id"])))
    assert sale_entries(world) == [f"licence-sale:{licence_id}"] and balances(world) == AFTER_SALE
    verify = world.app.test_cli_runner().invoke(args=["ledger", "verify", "--seal"])
    assert verify.exit_code == 0, verify.output


def _payload(world, event_id: str) -> bytes:
    with provided(Database, world.app).engine.connect() as conn:
        payload = conn.execute(text("SELECT payload FROM stripe_event WHERE id = :id"), {"id": event_id}).scalar()
    return (json.dumps(payload) if isinstance(payload, dict) else payload).encode()


def _paid_captured(world) -> int:
    """A licence paid through Checkout, its webhooks captured (not delivered to the app)."""
    world.capture()
    licence_id = world.signed_licence(like=3, fee=FEE)
    world.pay(licence_id)
    world.deliver()
    return licence_id


def test_payment_events_in_reverse_order_each_twice(pay_world_any_db):
    world = pay_world_any_db
    licence_id = _paid_captured(world)
    types = [json_type(p) for p, _ in world.captured]
    assert {"checkout.session.completed", "payment_intent.succeeded"} <= set(types)
    for payload, _ in reversed(world.captured):
        for _ in range(2):
            assert world.post_webhook(payload, world.resign(payload)).status_code == 200
    assert sale_entries(world) == [f"licence-sale:{licence_id}"]
    assert balances(world) == AFTER_SALE
    # Whichever came first recorded it; the other found it done.
    assert all(e.processed_at is not None and e.attempts == 1 for e in world.events().values())


def json_type(payload: bytes) -> str:
    return json.loads(payload)["type"]


def test_refund_delivered_before_the_payment_waits_and_is_applied_by_retry(pay_world_any_db):
    world = pay_world_any_db
    world.emulator.set_available_delay(0)  # compares the ledger with Stripe's *available* balance at once
    world.capture()
    licence_id = world.signed_licence(like=3, fee=FEE)
    intent = world.pay(licence_id)
    refund = world.gateway.refund(intent, idempotency_key=f"test-refund-{licence_id}")
    world.deliver()
    by_type = {json_type(p): p for p, _ in world.captured}
    # The refund's events arrive first: they wait, nothing is posted.
    for kind in ("refund.created", "charge.refunded"):
        response = world.post_webhook(by_type[kind], world.resign(by_type[kind]))
        assert response.status_code == 200 and response.get_json()["processed"] is False
    assert world.entries() == []
    pending = [e for e in world.events().values() if e.processed_at is None]
    assert len(pending) == 2 and all("EventNotReady" in e.last_error for e in pending)
    # Then the payment; then the retry job applies the refund once.
    world.post_webhook(by_type["payment_intent.succeeded"], world.resign(by_type["payment_intent.succeeded"]))
    assert "processed 2 events; 0 still pending" in world.retry_events()
    assert [k for k, _ in world.entries()] == [f"licence-sale:{licence_id}", f"licence-refund:{refund.id}"]
    # A full refund: the creators and the platform give back their parts; the platform bears Stripe's fee.
    assert balances(world) == {
        "stripe": -320,
        "fees": 320,
        "commission": 0,
        "ben": 0,
        "chloe": 0,
        "ben_rec": 0,
        "chloe_rec": 0,
    }
    assert world.balance("platform:stripe:USD") == world.emulator.available_balance("usd")
    payment = world.payment(licence_id)
    assert (payment.status, payment.refunded_amount) == ("refunded", FEE)
    # The rest of the events, all again: nothing more.
    for payload, _ in world.captured:
        world.post_webhook(payload, world.resign(payload))
    assert len(world.entries()) == 2 and world.payment(licence_id).refunded_amount == FEE


def _paid(world) -> tuple[int, str]:
    """A signed licence paid through Checkout, its webhooks delivered."""
    world.forward()
    licence_id = world.signed_licence(like=3, fee=FEE)
    intent = world.pay(licence_id)
    world.deliver()
    assert world.licence(licence_id).status == "active"
    return licence_id, intent


def _pay_out(world, creator: str, amount: int, key: str) -> None:
    """What settlement will do: the creator's payable paid out to their connected account."""
    ledger = provided(Ledger, world.app)
    with provided(Database, world.app).unit_of_work() as uow:
        draft = recipes.payout_transfer(
            key=key,
            effective_at=provided(Clock, world.app)(),
            currency="USD",
            amount=amount,
            creator_id=world.users[creator],
        )
        ledger.post(uow.session, draft, now=provided(Clock, world.app)())
        uow.commit()


def test_refund_after_payout_moves_the_shortfall_to_recoverable(pay_world_any_db):
    world = pay_world_any_db
    licence_id, intent = _paid(world)
    _pay_out(world, "ben", 5_600, "payout-test-ben")
    world.emulator_clock.advance(3600)
    refund = world.gateway.refund(intent, idempotency_key="partial-refund-1", amount=5_000)
    world.deliver(duplicate=True)
    # 5000 taken back by the sale's split: commission 1000, Ben 2800, Chloe 1200.
    # Ben was paid out already: his 2800 is recoverable; his payable stays at zero.
    assert balances(world) == {
        "stripe": 9_680 - 5_600 - 5_000,
        "fees": 320,
        "commission": -1_000,
        "ben": 0,
        "chloe": -1_200,
        "ben_rec": 2_800,
        "chloe_rec": 0,
    }
    payment = world.payment(licence_id)
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 5_000)
    refunds = [k for k, kind in world.entries() if kind == "licence.refund"]
    assert refunds == [f"licence-refund:{refund.id}"]


def test_dispute_reverses_the_sale_and_books_the_dispute_fee_once(pay_world_any_db):
    world = pay_world_any_db
    world.emulator.set_available_delay(0)  # compares the ledger with Stripe's *available* balance at once
    licence_id, intent = _paid(world)
    dispute = world.emulator.open_dispute(intent)
    world.deliver(duplicate=True)
    assert [k for k, kind in world.entries() if kind == "licence.dispute"] == [f"licence-dispute:{dispute['id']}"]
    assert balances(world) == {
        "stripe": 9_680 - 10_000 - 1_500,
        "fees": 320 + 1_500,
        "commission": 0,
        "ben": 0,
        "chloe": 0,
        "ben_rec": 0,
        "chloe_rec": 0,
    }
    assert world.balance("platform:stripe:USD") == world.emulator.available_balance("usd")
    payment = world.payment(licence_id)
    assert (payment.status, payment.disputed_amount) == ("disputed", FEE)


def test_events_about_other_payments_are_ignored(pay_world_any_db):
    world = pay_world_any_db
    world.forward()
    charge = world.emulator.add_platform_funds(2_000)
    world.gateway.refund(charge["payment_intent"], idempotency_key="not-a-licence")
    world.deliver()
    assert world.entries() == [] and all(e.processed_at for e in world.events().values())


def test_an_abandoned_checkout_does_not_hold_up_other_refunds(pay_world_any_db):
    world = pay_world_any_db
    world.forward()
    licence_id = world.signed_licence(like=3, fee=FEE)
    assert world.checkout(licence_id).status_code == 201  # never paid
    charge = world.emulator.add_platform_funds(2_000)
    world.gateway.refund(charge["payment_intent"], idempotency_key="other-refund")
    world.deliver()
    assert all(e.processed_at for e in world.events().values())
    assert world.payment(licence_id).status == "open"


def test_concurrent_deliveries_of_both_payment_events_post_once(pay_world_any_db):
    """Both payment events (each twice) at the same moment, from four threads."""
    world = pay_world_any_db
    licence_id = _paid_captured(world)
    wanted = [
        p for p, _ in world.captured if json_type(p) in ("checkout.session.completed", "payment_intent.succeeded")
    ] * 2
    barrier, statuses = threading.Barrier(len(wanted)), []

    def post(payload: bytes) -> None:
        client = world.app.test_client()
        barrier.wait()
        response = client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": world.resign(payload)})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(p,)) for p in wanted]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(wanted)
    world.retry_events()  # a delivery that lost a race on SQLite's single writer is retried
    assert sale_entries(world) == [f"licence-sale:{licence_id}"]
    assert balances(world) == AFTER_SALE
    assert all(e.processed_at is not None for e in world.events().values())
