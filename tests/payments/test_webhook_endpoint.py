"""POST /webhooks/stripe: verified, stored once by event id, processed idempotently, retried.

Deliveries come from the in-process emulator (real signatures) through the Flask test
client; crafted events are signed with the same scheme.
"""

from __future__ import annotations

import json

import pytest

from app.db import Database
from app.kit.registry import provided
from app.payments.events import EventNotReady, WebhookHandlers
from stripe_emulator import sign
from tests.payments.harness import WEBHOOK_SECRET, pay_world, seeded_sqlite

CALLS: list[str] = []
READY = {"flag": False}


def _waits(uow, event, ctx):
    CALLS.append(event.id)
    if not READY["flag"]:
        raise EventNotReady("the thing it depends on has not arrived")


def _breaks(uow, event, ctx):
    CALLS.append(event.id)
    raise RuntimeError("handler bug")


@pytest.fixture(autouse=True)
def _reset(request):
    CALLS.clear()
    READY["flag"] = False
    if "pay_world" in request.fixturenames:
        handlers = provided(WebhookHandlers, request.getfixturevalue("pay_world").app)
        handlers.register("test.waits", _waits)
        handlers.register("test.breaks", _breaks)


def crafted(world, event_id: str, type_: str = "test.waits") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": type_,
            "created": world.emulator_clock.now,
            "livemode": False,
            "data": {"object": {"id": "obj_1"}},
        }
    ).encode()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_valid_deliveries_are_stored_once_and_processed(pay_world):
    pay_world.forward()
    pay_world.emulator.add_platform_funds(5_000)
    report = pay_world.deliver()
    created = {e["id"]: e["type"] for e in pay_world.emulator.events()}
    assert set(report.delivered) == set(created) and report.pending == 0
    stored = pay_world.events()
    assert {k: v.type for k, v in stored.items()} == created
    assert all(e.processed_at is not None and e.attempts == 1 and e.last_error is None for e in stored.values())
    assert stored[next(iter(created))].payload["id"] == next(iter(created))


@pytest.mark.parametrize(
    "header",
    [
        "forged",
        "malformed",
        "missing",
        "tampered",
    ],
)
def test_forged_or_malformed_signatures_are_refused_and_nothing_recorded(pay_world, header):
    payload = crafted(pay_world, "evt_forged")
    t = pay_world.emulator_clock.now
    signature = {
        "forged": sign(payload, "whsec_someone_else", t),
        "malformed": "t=abc,v1=",
        "missing": "",
        "tampered": sign(payload, WEBHOOK_SECRET, t),
    }[header]
    body = payload.replace(b"obj_1", b"obj_2") if header == "tampered" else payload
    assert problem(pay_world.post_webhook(body, signature), 400)["title"] == "Invalid webhook signature"
    assert pay_world.count("stripe_event") == 0 and CALLS == []


def test_stale_signature_is_refused_and_the_emulator_keeps_it_for_retry(pay_world):
    pay_world.capture()
    pay_world.emulator.add_platform_funds(1_000)
    pay_world.deliver()
    payload, headers = pay_world.captured[0]
    pay_world.emulator_clock.advance(301)
    assert problem(pay_world.post_webhook(payload, headers["Stripe-Signature"]), 400)["detail"].startswith("timestamp")
    assert pay_world.count("stripe_event") == 0
    # Within tolerance (300 s) it is accepted.
    assert pay_world.post_webhook(payload, pay_world.resign(payload)).status_code == 200
    assert pay_world.count("stripe_event") == 1


def test_duplicates_answer_200_and_change_nothing(pay_world):
    READY["flag"] = True
    payload = crafted(pay_world, "evt_dup")
    first = pay_world.post_webhook(payload, pay_world.resign(payload))
    assert first.status_code == 200 and first.get_json() == {"received": True, "duplicate": False, "processed": True}
    before = pay_world.events()["evt_dup"]
    pay_world.emulator_clock.advance(60)
    again = pay_world.post_webhook(payload, pay_world.resign(payload))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert pay_world.events()["evt_dup"] == before and CALLS == ["evt_dup"]


def test_emulator_duplicated_and_shuffled_deliveries_are_each_processed_once(pay_world):
    pay_world.forward()
    for amount in (1_000, 2_000, 3_000):
        pay_world.emulator.add_platform_funds(amount)
    report = pay_world.deliver(duplicate=True, shuffle=True)
    created = {e["id"] for e in pay_world.emulator.events()}
    assert set(report.delivered) == created and pay_world.count("stripe_event") == len(created)
    assert {e.attempts for e in pay_world.events().values()} == {1}


def test_an_event_that_cannot_be_applied_yet_stays_pending_and_is_retried(pay_world):
    payload = crafted(pay_world, "evt_early")
    response = pay_world.post_webhook(payload, pay_world.resign(payload))
    assert response.status_code == 200 and response.get_json()["processed"] is False
    event = pay_world.events()["evt_early"]
    assert event.processed_at is None and event.attempts == 1 and "EventNotReady" in event.last_error
    assert "1 still pending" in pay_world.retry_events()  # still not ready
    assert pay_world.events()["evt_early"].attempts == 2
    READY["flag"] = True
    assert "processed 1 events; 0 still pending" in pay_world.retry_events()
    event = pay_world.events()["evt_early"]
    assert event.processed_at is not None and event.attempts == 3 and event.last_error is None
    assert "processed 0 events" in pay_world.retry_events()
    assert CALLS == ["evt_early"] * 3


def test_an_event_failing_too_often_is_parked_listed_and_retried_only_when_asked(pay_world):
    from sqlalchemy import text

    from app.payments.events import MAX_AUTOMATIC_ATTEMPTS

    payload = crafted(pay_world, "evt_poison")
    pay_world.post_webhook(payload, pay_world.resign(payload))
    with provided(Database, pay_world.app).engine.begin() as conn:
        conn.execute(
            text("UPDATE stripe_event SET attempts = :n WHERE id = 'evt_poison'"), {"n": MAX_AUTOMATIC_ATTEMPTS}
        )
    output = pay_world.retry_events()
    assert "processed 0 events; 0 still pending; 1 parked" in output and "parked evt_poison test.waits" in output
    assert CALLS == ["evt_poison"]  # parked: not tried again automatically
    READY["flag"] = True
    result = pay_world.app.test_cli_runner().invoke(args=["payments", "retry-events", "--include-parked"])
    assert result.exit_code == 0 and "processed 1 events; 0 still pending; 0 parked" in result.output
    assert pay_world.events()["evt_poison"].processed_at is not None and CALLS == ["evt_poison"] * 2


def test_a_redelivery_of_a_pending_event_is_another_attempt(pay_world):
    payload = crafted(pay_world, "evt_again")
    pay_world.post_webhook(payload, pay_world.resign(payload))
    READY["flag"] = True
    again = pay_world.post_webhook(payload, pay_world.resign(payload))
    assert again.get_json() == {"received": True, "duplicate": True, "processed": True}
    assert CALLS == ["evt_again", "evt_again"]


def test_a_failing_handler_does_not_lose_the_event(pay_world, caplog):
    payload = crafted(pay_world, "evt_bug", "test.breaks")
    response = pay_world.post_webhook(payload, pay_world.resign(payload))
    assert response.status_code == 200 and response.get_json()["processed"] is False
    event = pay_world.events()["evt_bug"]
    assert event.processed_at is None and event.last_error == "RuntimeError: handler bug"
    assert "handler bug" in caplog.text


def test_unknown_event_types_are_stored_and_marked_processed(pay_world):
    payload = crafted(pay_world, "evt_other", "customer.created")
    assert pay_world.post_webhook(payload, pay_world.resign(payload)).get_json()["processed"] is True
    assert provided(WebhookHandlers, pay_world.app).for_type("customer.created") == ()


def test_registering_a_handler_twice_keeps_one():
    handlers = WebhookHandlers()
    handlers.register("test.waits", _waits)
    handlers.register("test.waits", _waits)
    assert handlers.for_type("test.waits") == (_waits,)


def test_without_stripe_configuration_the_endpoint_answers_503(client):
    response = client.post("/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=x"})
    assert problem(response, 503)["title"] == "Payments unavailable"


def test_get_is_not_allowed(client):
    assert problem(client.get("/webhooks/stripe"), 405)["status"] == 405


def test_the_scheduler_job_retries_pending_events(pay_world):
    from app import scheduler

    assert "payments-retry-events" in [job_id for job_id, _, _ in scheduler.JOBS]
    payload = crafted(pay_world, "evt_sched")
    pay_world.post_webhook(payload, pay_world.resign(payload))
    READY["flag"] = True
    scheduler._context["app"] = pay_world.app
    try:
        scheduler.payments_retry_job()
    finally:
        scheduler._context.pop("app", None)
    assert pay_world.events()["evt_sched"].processed_at is not None


def test_an_unpaid_checkout_completion_records_nothing(pay_world):
    """Asynchronous payment methods complete the session unpaid; the payment comes later."""
    licence_id = pay_world.signed_licence(like=3, fee=5_000)
    body = pay_world.checkout(licence_id).get_json()
    payload = json.dumps(
        {
            "id": "evt_unpaid",
            "object": "event",
            "type": "checkout.session.completed",
            "created": pay_world.emulator_clock.now,
            "livemode": False,
            "data": {
                "object": {
                    "id": body["checkout_session_id"],
                    "object": "checkout.session",
                    "payment_status": "unpaid",
                    "payment_intent": None,
                    "metadata": {"kind": "licence_fee", "licence_id": str(licence_id)},
                }
            },
        }
    )
    response = pay_world.post_webhook(payload.encode(), pay_world.resign(payload.encode()))
    assert response.get_json()["processed"] is True
    assert pay_world.licence(licence_id).status == "signed" and pay_world.entries() == []


def test_a_payment_for_a_licence_revoked_meanwhile_stays_pending_for_an_operator(pay_world):
    from sqlalchemy import text

    pay_world.forward()
    licence_id = pay_world.signed_licence(like=3, fee=5_000)
    session_id = pay_world.checkout(licence_id).get_json()["checkout_session_id"]
    with provided(Database, pay_world.app).engine.begin() as conn:
        conn.execute(text("UPDATE mk_licence SET status = 'revoked' WHERE id = :id"), {"id": licence_id})
    pay_world.emulator.pay_checkout_session(session_id)
    assert pay_world.deliver().pending == 0  # answered 200: the events are safe with us
    stuck = [e for e in pay_world.events().values() if e.processed_at is None]
    assert {e.type for e in stuck} == {"checkout.session.completed", "payment_intent.succeeded"}
    assert all("revoked licence cannot be paid" in e.last_error for e in stuck)
    assert pay_world.entries() == [] and pay_world.licence(licence_id).status == "revoked"
    output = pay_world.retry_events()
    assert "2 still pending" in output and "(attempts 2): Conflict: A revoked licence cannot be paid." in output
