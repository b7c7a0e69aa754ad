"""Funds that are not available yet: pending charges, the delay, release, and source_transaction."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator import Emulator, processing_fee

DAY = 86_400


def _paid_charge(client, emulator, amount=10_000, currency="usd"):
    intent = client.v1.payment_intents.create(
        params={"amount": amount, "currency": currency, "confirm": True, "payment_method": "pm_card_visa"}
    )
    return client.v1.charges.retrieve(intent.latest_charge, params={"expand": ["balance_transaction"]})


def _balance(client, account=None):
    options = {"stripe_account": account} if account else {}
    found = client.v1.balance.retrieve(options=options)
    return ({b.currency: b.amount for b in found.available}, {b.currency: b.amount for b in found.pending})


def test_a_charge_is_pending_for_two_days_and_transfers_need_available_funds(
    client, emulator, emulator_clock, onboarded_account
):
    charge = _paid_charge(client, emulator)
    txn = charge.balance_transaction
    assert (txn.status, txn.available_on - txn.created) == ("pending", 2 * DAY)
    assert _balance(client) == ({"usd": 0}, {"usd": 9_680})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params={"amount": 1, "currency": "usd", "destination": onboarded_account})
    assert caught.value.code == "balance_insufficient"
    emulator_clock.advance(2 * DAY - 1)
    assert _balance(client) == ({"usd": 0}, {"usd": 9_680})
    emulator_clock.advance(1)
    assert _balance(client) == ({"usd": 9_680}, {"usd": 0})
    assert client.v1.balance_transactions.retrieve(txn.id).status == "available"
    client.v1.transfers.create(params={"amount": 9_680, "currency": "usd", "destination": onboarded_account})
    assert _balance(client) == ({"usd": 0}, {"usd": 0})
    assert _balance(client, onboarded_account) == ({"usd": 9_680}, {"usd": 0})


def test_platform_funds_bypass_pending(client, emulator):
    charge = emulator.add_platform_funds(10_000)
    assert client.v1.balance_transactions.retrieve(charge["balance_transaction"]).status == "available"
    assert (emulator.available_balance("usd"), emulator.pending_balance("usd")) == (9_680, 0)


def test_the_delay_is_a_setting_of_the_emulator_and_of_the_control_api(client, emulator, http, emulator_clock):
    emulator.set_available_delay(3_600)
    assert _paid_charge(client, emulator).balance_transaction.available_on == emulator_clock.now + 3_600
    answer = http.post(f"{http.base}/_emulator/balance/available_delay", json={"seconds": 0})
    assert answer.status_code == 200 and answer.json() == {"available_delay_seconds": 0}
    assert _paid_charge(client, emulator).balance_transaction.status == "available"
    assert http.get(f"{http.base}/_emulator/status").json()["available_delay_seconds"] == 0
    for bad in (-1, "soon", 1.5):
        refused = http.post(f"{http.base}/_emulator/balance/available_delay", json={"seconds": bad})
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request_error"
    assert emulator.available_delay == 0
    with pytest.raises(ValueError):
        Emulator(spec=None, available_delay=-5)


def test_pending_funds_can_be_released_at_once(client, emulator, http, onboarded_account):
    _paid_charge(client, emulator)
    _paid_charge(client, emulator, amount=5_000)
    assert emulator.release_pending_funds() == 2
    assert (emulator.available_balance("usd"), emulator.pending_balance("usd")) == (9_680 + 4_825, 0)
    _paid_charge(client, emulator, amount=1_000)
    answer = http.post(f"{http.base}/_emulator/balance/release", json={})
    assert answer.json() == {"released": 1}
    assert emulator.pending_balance("usd") == 0


def test_source_transaction_pays_out_of_a_pending_charge_up_to_its_amount(
    client, emulator, emulator_clock, onboarded_account
):
    charge = _paid_charge(client, emulator)  # 10_000 gross, 9_680 net, pending two days
    available_on = charge.balance_transaction.available_on
    first = client.v1.transfers.create(
        params={"amount": 7_000, "currency": "usd", "source_transaction": charge.id, "destination": onboarded_account}
    )
    assert first.source_transaction == charge.id
    assert first.transfer_group == f"group_{charge.payment_intent}"
    assert client.v1.charges.retrieve(charge.id).transfer_group == first.transfer_group
    platform_txn = client.v1.balance_transactions.retrieve(first.balance_transaction)
    assert (platform_txn.status, platform_txn.available_on) == ("pending", available_on)
    assert _balance(client) == ({"usd": 0}, {"usd": 2_680})
    assert _balance(client, onboarded_account) == ({"usd": 0}, {"usd": 7_000})  # the charge's pending status
    second = client.v1.transfers.create(
        params={
            "amount": 3_000,
            "currency": "usd",
            "source_transaction": charge.id,
            "destination": onboarded_account,
            "transfer_group": "mine",
        }
    )
    assert second.transfer_group == "mine"
    with pytest.raises(stripe.InvalidRequestError) as caught:  # 10_000 of 10_000 already taken
        client.v1.transfers.create(
            params={"amount": 1, "currency": "usd", "source_transaction": charge.id, "destination": onboarded_account}
        )
    assert (caught.value.code, caught.value.param) == ("amount_too_large", "amount")
    emulator_clock.advance(2 * DAY)
    assert _balance(client) == ({"usd": -320}, {"usd": 0})  # the fee: transfers may take the gross
    assert _balance(client, onboarded_account) == ({"usd": 10_000}, {"usd": 0})


def test_source_transaction_rules(client, emulator, onboarded_account):
    charge = _paid_charge(client, emulator)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={
                "amount": 10_001,
                "currency": "usd",
                "source_transaction": charge.id,
                "destination": onboarded_account,
            }
        )
    assert caught.value.code == "amount_too_large"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={"amount": 100, "currency": "eur", "source_transaction": charge.id, "destination": onboarded_account}
        )
    assert caught.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={
                "amount": 100,
                "currency": "usd",
                "source_transaction": "ch_missing",
                "destination": onboarded_account,
            }
        )
    assert (caught.value.http_status, caught.value.param) == (404, "source_transaction")
    assert emulator.objects("transfer") == []
    emulator.release_pending_funds()  # a settled source charge: the available balance must cover it again
    emulator.open_dispute(charge.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={"amount": 100, "currency": "usd", "source_transaction": charge.id, "destination": onboarded_account}
        )
    assert caught.value.code == "balance_insufficient"


def test_pending_funds_survive_a_restart(tmp_path, emulator_clock):
    path = tmp_path / "state.json"
    first = Emulator(spec=None, state_file=path, clock=emulator_clock)
    first.add_platform_funds(1_000)
    with first.lock:
        from stripe_emulator.resources.payments import create_paid_intent

        create_paid_intent(first.context(), first.store.platform, 2_000, "usd", {})
        first.persist()
    second = Emulator(spec=None, state_file=path, clock=emulator_clock)
    fee = processing_fee(2_000, "usd")
    assert (second.available_balance("usd"), second.pending_balance("usd")) == (1_000 - 59, 2_000 - fee)
    emulator_clock.advance(2 * DAY)
    assert (second.available_balance("usd"), second.pending_balance("usd")) == (1_000 - 59 + 2_000 - fee, 0)
