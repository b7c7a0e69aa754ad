"""Webhooks into the gateway: Stripe's signature scheme, checked against the ``now`` passed in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.payments.gateway import WebhookSignatureError
from app.payments.stripe_gateway import StripeGateway, verify_signature
from stripe_emulator import sign

from .support import TEST_KEY, WEBHOOK_SECRET

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
EVENT = {
    "id": "evt_1",
    "object": "event",
    "type": "account.updated",
    "created": T,
    "livemode": False,
    "account": "acct_1",
    "data": {"object": {"id": "acct_1", "payouts_enabled": True}, "previous_attributes": {"payouts_enabled": False}},
}
PAYLOAD = json.dumps(EVENT).encode()


@pytest.fixture
def offline_gateway():
    gateway = StripeGateway(TEST_KEY, api_base="http://127.0.0.1:9", webhook_secret=WEBHOOK_SECRET)
    yield gateway
    gateway.close()


def test_valid_signature_parses_into_a_webhook_event(offline_gateway):
    event = offline_gateway.parse_webhook(PAYLOAD, sign(PAYLOAD, WEBHOOK_SECRET, T), NOW + timedelta(seconds=30))
    assert (event.id, event.type, event.account, event.created, event.livemode) == (
        "evt_1",
        "account.updated",
        "acct_1",
        NOW,
        False,
    )
    assert event.data_object["payouts_enabled"] is True
    assert event.previous_attributes == {"payouts_enabled": False}


@pytest.mark.parametrize(
    "header",
    [
        sign(PAYLOAD, "whsec_someone_else", T),
        sign(PAYLOAD + b" ", WEBHOOK_SECRET, T),
        f"t={T}",
        "garbage",
        "",
    ],
)
def test_forged_or_malformed_signatures_are_rejected(offline_gateway, header):
    with pytest.raises(WebhookSignatureError):
        offline_gateway.parse_webhook(PAYLOAD, header, NOW)


def test_stale_signatures_are_rejected(offline_gateway):
    header = sign(PAYLOAD, WEBHOOK_SECRET, T)
    assert offline_gateway.parse_webhook(PAYLOAD, header, NOW + timedelta(seconds=299)).id == "evt_1"
    assert offline_gateway.parse_webhook(PAYLOAD, header, NOW + timedelta(seconds=300)).id == "evt_1"
    with pytest.raises(WebhookSignatureError, match=r"timestamp is 301 s old \(tolerance 300 s\)"):
        offline_gateway.parse_webhook(PAYLOAD, header, NOW + timedelta(seconds=301))


def test_signatures_from_the_future_are_rejected(offline_gateway):
    """A timestamp ahead of ``now`` by more than the tolerance is forged or from a broken clock."""
    header = sign(PAYLOAD, WEBHOOK_SECRET, T)
    assert offline_gateway.parse_webhook(PAYLOAD, header, NOW - timedelta(seconds=299)).id == "evt_1"
    assert offline_gateway.parse_webhook(PAYLOAD, header, NOW - timedelta(seconds=300)).id == "evt_1"
    with pytest.raises(WebhookSignatureError, match=r"timestamp is 301 s in the future \(tolerance 300 s\)"):
        offline_gateway.parse_webhook(PAYLOAD, header, NOW - timedelta(seconds=301))


def test_the_window_is_checked_against_the_now_passed_in_not_the_machine_clock(offline_gateway):
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    old_t = int(long_ago.timestamp())
    header = sign(PAYLOAD, WEBHOOK_SECRET, old_t)
    assert verify_signature(PAYLOAD, header, WEBHOOK_SECRET, long_ago + timedelta(seconds=10)) == old_t
    with pytest.raises(WebhookSignatureError, match="old"):
        verify_signature(PAYLOAD, header, WEBHOOK_SECRET, NOW)


def test_the_sdk_checks_the_signature(monkeypatch):
    """The HMAC comparison is stripe.WebhookSignature's, not a copy of it."""
    import stripe

    calls = []
    real = stripe.WebhookSignature.verify_header

    def spy(payload, header, secret, tolerance=None):
        calls.append(tolerance)
        return real(payload, header, secret, tolerance)

    monkeypatch.setattr(stripe.WebhookSignature, "verify_header", spy)
    verify_signature(PAYLOAD, sign(PAYLOAD, WEBHOOK_SECRET, T), WEBHOOK_SECRET, NOW)
    assert calls == [None]  # the time window is ours: the SDK would read the machine's clock


def test_a_payload_that_is_not_text_is_refused_cleanly(offline_gateway):
    binary = b"\xff\xfe{}"
    with pytest.raises(WebhookSignatureError, match="UTF-8"):
        offline_gateway.parse_webhook(binary, sign(PAYLOAD, WEBHOOK_SECRET, T), NOW)


def test_any_of_several_v1_signatures_may_match():
    rolled = sign(PAYLOAD, WEBHOOK_SECRET, T).split(",")[1]
    header = f"t={T},v1={'0' * 64},{rolled},v0=legacy"
    assert verify_signature(PAYLOAD, header, WEBHOOK_SECRET, NOW) == T


def test_missing_secret_or_non_event_payload(offline_gateway):
    no_secret = StripeGateway(TEST_KEY, api_base="http://127.0.0.1:9")
    try:
        with pytest.raises(WebhookSignatureError):
            no_secret.parse_webhook(PAYLOAD, sign(PAYLOAD, WEBHOOK_SECRET, T), NOW)
    finally:
        no_secret.close()
    junk = b'{"not": "an event"}'
    with pytest.raises(WebhookSignatureError):
        offline_gateway.parse_webhook(junk, sign(junk, WEBHOOK_SECRET, T), NOW)


def test_emulator_deliveries_duplicated_and_shuffled_are_each_handled_once(
    gateway, emulator, emulator_clock, creator_account
):
    """A handler that de-duplicates on event id sees every event exactly once."""
    handled: dict[str, str] = {}
    attempts = []

    def handler(payload: bytes, headers: dict) -> int:
        now = datetime.fromtimestamp(emulator_clock.now, tz=UTC)
        event = gateway.parse_webhook(payload, headers["Stripe-Signature"], now)
        attempts.append(event.id)
        handled.setdefault(event.id, event.type)
        return 200

    emulator.add_webhook_endpoint(WEBHOOK_SECRET, target=handler)
    emulator.add_platform_funds(5_000)
    gateway.create_transfer(amount=1_000, currency="USD", destination=creator_account, idempotency_key="payout-item-31")
    report = emulator.deliver_pending(duplicate=True, shuffle=True)
    created = {e["id"]: e["type"] for e in emulator.events()}
    assert handled == created and len(attempts) == 2 * len(created)
    assert set(report.delivered) == set(created)


def test_stale_delivery_is_refused_by_the_receiver(gateway, emulator, emulator_clock):
    outcomes = []

    def late_handler(payload: bytes, headers: dict) -> int:
        late = datetime.fromtimestamp(emulator_clock.now + 301, tz=UTC)
        try:
            gateway.parse_webhook(payload, headers["Stripe-Signature"], late)
        except WebhookSignatureError:
            outcomes.append("refused")
            return 400
        return 200

    emulator.add_webhook_endpoint(WEBHOOK_SECRET, target=late_handler)
    emulator.add_platform_funds(100)
    report = emulator.deliver_pending()
    assert outcomes == ["refused"] * 3 and report.pending == 3  # kept for retry
