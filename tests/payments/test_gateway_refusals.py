"""A transfer to a destination that refuses money becomes a PayoutDestinationRefused."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest

from app.payments.gateway import InvalidPaymentRequest, PayoutDestinationRefused

from .support import WEBHOOK_SECRET


def _pay(gateway, account, key):
    return gateway.create_transfer(amount=500, currency="USD", destination=account, idempotency_key=key)


@pytest.mark.parametrize(
    "refuse,reason,code,permanent",
    [
        (lambda emulator, account: emulator.close_account(account), "closed", "account_invalid", True),
        (
            lambda emulator, account: emulator.reject_account(account, "terms_of_service"),
            "rejected",
            "transfers_not_allowed",
            True,
        ),
        (
            lambda emulator, account: emulator.restrict_account(account),
            "restricted",
            "insufficient_capabilities_for_transfer",
            False,
        ),
    ],
)
def test_each_refusal_is_translated(
    gateway, emulator, creator_account, funded_platform, refuse, reason, code, permanent
):
    _pay(gateway, creator_account, "item-1")
    refuse(emulator, creator_account)
    with pytest.raises(PayoutDestinationRefused) as caught:
        _pay(gateway, creator_account, "item-2")
    error = caught.value
    assert (error.reason, error.code, error.permanent, error.http_status) == (reason, code, permanent, 400)
    assert isinstance(error, InvalidPaymentRequest)  # callers treating it as definitive keep doing so
    assert len(emulator.objects("transfer")) == 1


def test_a_never_onboarded_account_is_a_restricted_destination(gateway, emulator, funded_platform):
    account = gateway.create_connected_account(email="new@example.com", country="US", idempotency_key="acct-new")
    with pytest.raises(PayoutDestinationRefused) as caught:
        _pay(gateway, account.id, "item-new")
    assert (caught.value.reason, caught.value.permanent) == ("restricted", False)


def test_a_restriction_reaches_the_app_as_account_updated(gateway, emulator, emulator_clock, creator_account):
    seen = []

    def receiver(payload: bytes, headers: dict) -> int:
        now = datetime.fromtimestamp(emulator_clock.now, tz=UTC)
        seen.append(gateway.parse_webhook(payload, headers["Stripe-Signature"], now))
        return 200

    emulator.add_webhook_endpoint(WEBHOOK_SECRET, target=receiver, enabled_events=("account.updated",))
    emulator.restrict_account(creator_account, "requirements.past_due", ("individual.id_number",))
    emulator.deliver_pending()
    [event] = seen
    assert (event.type, event.account) == ("account.updated", creator_account)
    assert event.data_object["payouts_enabled"] is False
    assert event.data_object["requirements"]["disabled_reason"] == "requirements.past_due"
    assert event.previous_attributes["payouts_enabled"] is True
    account = gateway.retrieve_account(creator_account)
    assert (account.payouts_enabled, account.requirements_due) == (False, ("individual.id_number",))


def test_reasons_are_checked():
    with pytest.raises(ValueError):
        PayoutDestinationRefused("x", reason="sulking")
