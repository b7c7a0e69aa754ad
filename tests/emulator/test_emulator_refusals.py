"""Permanent and lasting refusals of payouts: closed, rejected and restricted destinations."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator import StripeError


def _transfer(client, destination, amount=100):
    return client.v1.transfers.create(params={"amount": amount, "currency": "usd", "destination": destination})


@pytest.fixture
def funded(emulator) -> None:
    emulator.add_platform_funds(100_000)


def test_a_closed_account_refuses_transfers_with_account_invalid(client, emulator, onboarded_account, funded):
    _transfer(client, onboarded_account)
    deleted = client.v1.accounts.delete(onboarded_account)
    assert (deleted.id, deleted.deleted) == (onboarded_account, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _transfer(client, onboarded_account)
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (400, "account_invalid", "destination")
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.accounts.retrieve(onboarded_account)
    assert gone.value.http_status == 404
    assert onboarded_account not in [a.id for a in client.v1.accounts.list().data]
    assert len(emulator.objects("transfer")) == 1


def test_a_rejected_account_refuses_transfers_for_good(client, emulator, onboarded_account, funded):
    rejected = client.v1.accounts.reject(onboarded_account, params={"reason": "fraud"})
    assert (rejected.payouts_enabled, rejected.requirements.disabled_reason) == (False, "rejected.fraud")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _transfer(client, onboarded_account)
    assert (caught.value.code, caught.value.param) == ("transfers_not_allowed", "destination")
    with pytest.raises(stripe.InvalidRequestError) as bogus:
        client.v1.accounts.reject(onboarded_account, params={"reason": "bogus"})
    assert bogus.value.param == "reason"
    with pytest.raises(StripeError, match="rejected"):
        emulator.complete_onboarding(onboarded_account)  # a rejection is final
    [event] = emulator.events(account=onboarded_account, type="account.updated")[:1]
    assert event["data"]["object"]["requirements"]["disabled_reason"] == "rejected.fraud"
    assert event["data"]["previous_attributes"]["payouts_enabled"] is True


def test_a_restricted_account_refuses_until_onboarding_is_completed(client, emulator, onboarded_account, funded):
    before = len(emulator.events(account=onboarded_account, type="account.updated"))
    account = emulator.restrict_account(onboarded_account, "requirements.past_due", ("individual.id_number",))
    assert (account["payouts_enabled"], account["capabilities"]["transfers"]) == (False, "inactive")
    assert account["requirements"]["disabled_reason"] == "requirements.past_due"
    assert account["requirements"]["currently_due"] == ["individual.id_number"]
    updated = emulator.events(account=onboarded_account, type="account.updated")
    assert len(updated) == before + 1
    event = updated[0]
    assert event["account"] == onboarded_account
    assert event["data"]["object"]["payouts_enabled"] is False
    assert event["data"]["previous_attributes"]["payouts_enabled"] is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _transfer(client, onboarded_account)
    assert caught.value.code == "insufficient_capabilities_for_transfer"
    emulator.complete_onboarding(onboarded_account)
    assert _transfer(client, onboarded_account).amount == 100


def test_refusals_through_the_control_api(http, emulator, onboarded_account, funded, client):
    base = f"{http.base}/_emulator/accounts/{onboarded_account}"
    restricted = http.post(f"{base}/restrict", json={"disabled_reason": "under_review"})
    assert restricted.status_code == 200 and restricted.json()["requirements"]["disabled_reason"] == "under_review"
    bad = http.post(f"{base}/restrict", json={"disabled_reason": "rejected.fraud"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "disabled_reason"
    assert (
        http.post(f"{base}/reject", json={"reason": "terms_of_service"}).json()["requirements"]["disabled_reason"]
        == "rejected.terms_of_service"
    )
    assert http.post(f"{base}/close", json={}).json() == {"id": onboarded_account, "object": "account", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _transfer(client, onboarded_account)
    assert caught.value.code == "account_invalid"
    assert http.post(f"{http.base}/_emulator/accounts/acct_nope/close", json={}).status_code == 404
