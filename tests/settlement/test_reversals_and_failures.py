"""Transfers refused by Stripe, transfers reversed afterwards (webhooks), and retries of failed items."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timezone

from sqlalchemy import text

from app.db import Database
from app.kit.registry import provided
from app.payments.gateway import PayoutDestinationRefused

from .world import AFTER_NOV, AFTER_OCT, NOV, OCT


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def deliver(w) -> list[dict]:
    """Post every captured webhook into the app (twice: duplicates must change nothing)."""
    events = []
    w.pay.deliver()  # the emulator hands its queued events to the capture
    for payload, headers in w.pay.captured:
        for _ in range(2):
            response = w.pay.post_webhook(payload, headers["Stripe-Signature"])
            assert response.status_code == 200, response.get_data(as_text=True)
        events.append(json.loads(payload))
    w.pay.captured.clear()
    return events


def test_reversed_transfers_return_to_the_payable_once(world_any_db):
    w = world_any_db
    w.fund()
    licence = w.licence(holdback_days=0)
    ava, ben = w.creator("ava"), w.creator("ben")
    w.earn(ava, 100_00, at=utc(2026, 10, 2), licence_id=licence)
    w.earn(ben, 20_00, at=utc(2026, 10, 2), licence_id=licence)
    w.pay.capture()
    w.settle(OCT, now=AFTER_OCT)
    deliver(w)  # transfer.created and friends: nothing to do
    items = w.items(OCT)
    ava_item, ben_item = items[(ava, "USD")], items[(ben, "USD")]
    gateway = w.pay.gateway

    gateway.reverse_transfer(ava_item.transfer_id, idempotency_key="reverse-ava-1", amount=30_00)
    assert "transfer.reversed" in [e["type"] for e in deliver(w)]
    item = w.items(OCT)[(ava, "USD")]
    assert (item.status, item.reversed_amount, w.payable(ava)) == ("partially_reversed", 30_00, 30_00)
    gateway.reverse_transfer(ava_item.transfer_id, idempotency_key="reverse-ava-2")  # the rest
    gateway.reverse_transfer(ben_item.transfer_id, idempotency_key="reverse-ben")  # all at once
    deliver(w)
    items = w.items(OCT)
    assert (items[(ava, "USD")].status, items[(ava, "USD")].reversed_amount, w.payable(ava)) == (
        "reversed",
        100_00,
        100_00,
    )
    assert (items[(ben, "USD")].status, w.payable(ben)) == ("reversed", 20_00)
    assert [k for k, _ in w.entries("payout.reversal")] == [
        f"payout:item:{ava_item.id}:reversed:3000",
        f"payout:item:{ava_item.id}:reversed:10000",
    ]
    assert [k for k, _ in w.entries("reversal")] == [f"payout:item:{ben_item.id}:reversed"]
    assert w.balance("platform:stripe:USD") == 0
    w.assert_books_verify()

    # what came back is paid again by the next run
    report = w.settle(NOV, now=AFTER_NOV)
    assert {k: (i.status, i.amount) for k, i in w.items(NOV).items()} == {
        (ava, "USD"): ("paid", 100_00),
        (ben, "USD"): ("paid", 20_00),
    }
    assert report.run.status == "completed" and (w.payable(ava), w.payable(ben)) == (0, 0)
    w.assert_one_transfer_per_paid_item(NOV)
    w.assert_books_verify()


def account_of(w, creator_id: int) -> str:
    with provided(Database, w.app).engine.connect() as conn:
        return conn.execute(
            text("SELECT stripe_account_id FROM connect_account WHERE creator_id = :c"), {"c": creator_id}
        ).scalar_one()


def test_a_refused_transfer_fails_its_item_and_a_retry_pays_it(world_any_db):
    w = world_any_db
    licence = w.licence(holdback_days=0)
    ava, ben = w.creator("ava"), w.creator("ben")
    w.earn(ava, 60_00, at=utc(2026, 10, 2), licence_id=licence)
    w.earn(ben, 40_00, at=utc(2026, 10, 2), licence_id=licence)
    w.fund()
    w.emulator.restrict_account(account_of(w, ava))  # Stripe refuses transfers until she acts

    result = w.cli("--period", OCT.name)
    assert result.exit_code == 1 and "1 items failed" in result.output and "--retry-failed" in result.output
    run, items = w.run_row(OCT), w.items(OCT)
    assert (run.status, run.paid_count, run.failed_count) == ("completed_with_failures", 1, 1)
    failed = items[(ava, "USD")]
    assert failed.status == "failed" and PayoutDestinationRefused.__name__ in failed.last_error
    assert (w.payable(ava), w.payable(ben)) == (60_00, 0)  # the payout entry was reversed
    assert [k for k, _ in w.entries("reversal")] == [f"payout:item:{failed.id}:failed"]
    w.assert_books_verify()

    w.emulator.complete_onboarding(account_of(w, ava))
    result = w.cli("--period", OCT.name, "--retry-failed", now=utc(2026, 11, 2))
    assert result.exit_code == 0, result.output
    retried = w.items(OCT)[(ava, "USD")]
    assert (retried.status, retried.attempt, w.payable(ava)) == ("paid", 2, 0)
    assert w.run_row(OCT).status == "completed"
    keys = [r["idempotency_key"] for r in w.transfer_writes()]
    assert f"payout-item-{failed.id}" in keys and f"payout-item-{failed.id}-2" in keys
    assert f"payout:item:{failed.id}:2" in [k for k, _ in w.entries("payout.transfer")]
    assert len(w.transfers()) == 2
    w.assert_one_transfer_per_paid_item(OCT)
    w.assert_books_verify()

    result = w.cli("--period", OCT.name, "--retry-failed", now=utc(2026, 11, 2))
    assert result.exit_code == 1 and "no failed items" in result.output
