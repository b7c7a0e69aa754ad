"""Stateful behaviour over the real SDK: Connect, checkout, money movement, lists, events."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator import Emulator, processing_fee
from stripe_emulator.money import dispute_fee


def _checkout(client, amount=10_000, metadata=None):
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://shop.test/ok?cs={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.test/cancel",
            "client_reference_id": "licence-7",
            "metadata": metadata or {"licence": "7"},
            "payment_intent_data": {"metadata": {"licence": "7"}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {"currency": "usd", "unit_amount": amount, "product_data": {"name": "Cameo licence"}},
                }
            ],
        }
    )


def test_fee_rule_is_integer_half_up():
    assert processing_fee(10_000, "usd") == 320
    assert processing_fee(1_050, "usd") == 30 + 30  # 30.45 → 30
    assert processing_fee(1_500, "eur") == 44 + 30  # 43.5 → 44
    assert processing_fee(1_000, "JPY") == 29
    assert processing_fee(10_000, "kwd") == 290 + 300
    assert dispute_fee("usd") == 1500


def test_account_starts_unonboarded_and_the_link_page_completes_it(client, emulator, http):
    account = client.v1.accounts.create(
        params={"type": "express", "email": "c@example.com", "capabilities": {"transfers": {"requested": True}}}
    )
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    assert account.requirements.currently_due
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.test/refresh",
            "return_url": "https://shop.test/done",
        }
    )
    assert f"/_emulator/onboard/{account.id}" in link.url
    page = http.get(link.url)
    assert page.status_code == 200 and "Complete onboarding" in page.text and "no real money" in page.text
    done = http.post(link.url, allow_redirects=False)
    assert done.status_code == 303 and done.headers["Location"] == "https://shop.test/done"
    account = client.v1.accounts.retrieve(account.id)
    assert account.charges_enabled and account.payouts_enabled and account.details_submitted
    assert account.requirements.currently_due == []
    [event] = emulator.events(account=account.id, type="account.updated")
    assert event["account"] == account.id and event["data"]["object"]["payouts_enabled"] is True
    assert [a.id for a in client.v1.accounts.list().auto_paging_iter()] == [account.id]


def test_checkout_page_pays_and_redirects(client, emulator, emulator_clock, http):
    session = _checkout(client)
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert session.url.endswith(f"/_emulator/checkout/{session.id}")
    assert "Pay" in http.get(session.url).text
    paid = http.post(session.url, allow_redirects=False)
    assert paid.status_code == 303 and paid.headers["Location"].startswith("https://shop.test/ok")
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert (session.status, session.payment_status) == ("complete", "paid")
    intent = session.payment_intent
    assert intent.status == "succeeded" and intent.metadata.to_dict() == {"licence": "7"}
    charge = client.v1.charges.retrieve(intent.latest_charge, params={"expand": ["balance_transaction"]})
    assert (charge.balance_transaction.fee, charge.balance_transaction.net) == (320, 9680)
    assert charge.balance_transaction.status == "pending"
    assert charge.balance_transaction.available_on == charge.created + 2 * 86_400  # the default delay
    assert (emulator.available_balance("usd"), emulator.pending_balance("usd")) == (0, 9680)
    emulator_clock.advance(2 * 86_400)
    assert (emulator.available_balance("usd"), emulator.pending_balance("usd")) == (9680, 0)
    types = [e["type"] for e in reversed(emulator.events())]
    assert types == [
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
    ]
    with pytest.raises(stripe.InvalidRequestError):  # a session is paid once
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert http.post(session.url).status_code == 400


def test_transfer_moves_available_funds_and_checks_balance(client, emulator, onboarded_account):
    emulator.add_platform_funds(10_000)  # net 9680
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params={"amount": 9_681, "currency": "usd", "destination": onboarded_account})
    assert caught.value.code == "balance_insufficient" and caught.value.http_status == 400
    transfer = client.v1.transfers.create(
        params={"amount": 9_680, "currency": "usd", "destination": onboarded_account, "transfer_group": "p-1"}
    )
    assert emulator.available_balance("usd") == 0
    assert emulator.available_balance("usd", account=onboarded_account) == 9_680
    txns = client.v1.balance_transactions.list(params={"type": "transfer"}).data
    assert [(t.amount, t.source) for t in txns] == [(-9_680, transfer.id)]
    connected = client.v1.balance.retrieve(options={"stripe_account": onboarded_account})
    assert connected.available[0].amount == 9_680


def test_transfer_needs_an_onboarded_destination(client, emulator):
    emulator.add_platform_funds(10_000)
    account = client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params={"amount": 100, "currency": "usd", "destination": account.id})
    assert caught.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params={"amount": 100, "currency": "usd", "destination": "acct_nope"})
    assert caught.value.http_status == 404


def test_reversals_partial_then_full_then_refused(client, emulator, onboarded_account):
    emulator.add_platform_funds(10_000)
    transfer = client.v1.transfers.create(params={"amount": 1_000, "currency": "usd", "destination": onboarded_account})
    client.v1.transfers.reversals.create(transfer.id, params={"amount": 300})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 701})
    assert caught.value.param == "amount"
    client.v1.transfers.reversals.create(transfer.id)
    transfer = client.v1.transfers.retrieve(transfer.id)
    assert (transfer.amount_reversed, transfer.reversed) == (1_000, True)
    assert [r.amount for r in transfer.reversals.data] == [700, 300]
    assert emulator.available_balance("usd", account=onboarded_account) == 0
    assert emulator.available_balance("usd") == 9_680
    assert len(emulator.events(type="transfer.reversed")) == 2
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id)


def test_transfer_list_filters_and_paginates(client, emulator, emulator_clock, onboarded_account):
    emulator.add_platform_funds(100_000)
    created = []
    for index in range(5):
        emulator_clock.advance(60)
        created.append(
            client.v1.transfers.create(
                params={
                    "amount": 100 + index,
                    "currency": "usd",
                    "destination": onboarded_account,
                    "transfer_group": "even" if index % 2 == 0 else "odd",
                }
            )
        )
    page = client.v1.transfers.list(params={"limit": 2})
    assert page.has_more and [t.id for t in page.data] == [created[4].id, created[3].id]
    everything = [t.id for t in client.v1.transfers.list(params={"limit": 2}).auto_paging_iter()]
    assert everything == [t.id for t in reversed(created)]
    evens = client.v1.transfers.list(params={"transfer_group": "even"}).data
    assert [t.amount for t in evens] == [104, 102, 100]
    window = client.v1.transfers.list(params={"created": {"gte": created[1].created, "lt": created[3].created}})
    assert [t.id for t in window.data] == [created[2].id, created[1].id]
    assert client.v1.transfers.list(params={"destination": "acct_other"}).data == []
    before = client.v1.transfers.list(params={"ending_before": created[2].id, "limit": 1}).data
    assert [t.id for t in before] == [created[3].id]


def test_payout_on_the_connected_account(client, emulator, onboarded_account):
    emulator.add_platform_funds(10_000)
    client.v1.transfers.create(params={"amount": 2_000, "currency": "usd", "destination": onboarded_account})
    payout = client.v1.payouts.create(
        params={"amount": 1_500, "currency": "usd"}, options={"stripe_account": onboarded_account}
    )
    assert payout.status == "paid"
    assert emulator.available_balance("usd", account=onboarded_account) == 500
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payouts.create(
            params={"amount": 501, "currency": "usd"}, options={"stripe_account": onboarded_account}
        )
    assert caught.value.code == "balance_insufficient"
    events = client.v1.events.list(options={"stripe_account": onboarded_account}).data
    assert [e.type for e in events][:2] == ["payout.paid", "payout.created"]
    assert all(e.account == onboarded_account for e in events)
    assert client.v1.payouts.retrieve(payout.id, options={"stripe_account": onboarded_account}).amount == 1_500


def test_refunds_by_intent_and_charge(client, emulator):
    session = _checkout(client, amount=2_000)
    intent_id = emulator.pay_checkout_session(session.id)["payment_intent"]
    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 500})
    charge = client.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1_501})
    assert caught.value.code == "amount_too_large"
    client.v1.refunds.create(params={"charge": charge.id})
    assert client.v1.charges.retrieve(charge.id).refunded is True
    refunded_events = emulator.events(type="charge.refunded")
    assert [e["data"]["object"]["amount_refunded"] for e in refunded_events] == [2_000, 500]
    assert [t.amount for t in client.v1.balance_transactions.list(params={"type": "refund"}).data] == [-1_500, -500]
    # the charge's funds are still pending; refunds come out of the available balance at once
    assert emulator.pending_balance("usd") == 2_000 - processing_fee(2_000, "usd")
    assert emulator.available_balance("usd") == -2_000


def test_dispute_control_hook(client, emulator):
    charge = emulator.add_platform_funds(5_000)
    dispute = emulator.open_dispute(charge["id"])
    assert dispute["status"] == "needs_response" and dispute["amount"] == 5_000
    assert client.v1.charges.retrieve(charge["id"]).disputed is True
    [event] = emulator.events(type="charge.dispute.created")
    assert event["data"]["object"]["id"] == dispute["id"]
    assert client.v1.disputes.retrieve(dispute["id"]).charge == charge["id"]
    assert emulator.available_balance("usd") == 5_000 - processing_fee(5_000, "usd") - 5_000 - 1_500


def test_payment_intents_confirm(client, emulator):
    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "usd"})
    assert intent.status == "requires_payment_method"
    intent = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert intent.status == "succeeded" and intent.latest_charge
    direct = client.v1.payment_intents.create(
        params={"amount": 300, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"}
    )
    assert direct.status == "succeeded"
    assert [i.id for i in client.v1.payment_intents.list().data] == [direct.id, intent.id]


def test_events_list_and_retrieve(client, emulator):
    emulator.add_platform_funds(1_000)
    events = client.v1.events.list(params={"type": "charge.*"}).data
    assert [e.type for e in events] == ["charge.succeeded"]
    assert client.v1.events.retrieve(events[0].id).data.object.amount == 1_000
    assert "account" not in events[0]


def test_state_file_survives_a_restart(tmp_path, emulator_clock):
    path = tmp_path / "stripe-state.json"
    first = Emulator(state_file=path, clock=emulator_clock)
    charge = first.add_platform_funds(1_000)
    second = Emulator(state_file=path, clock=emulator_clock)
    assert second.get_object(charge["id"])["amount"] == 1_000
    assert second.available_balance("usd") == first.available_balance("usd")
    second.reset()
    assert Emulator(state_file=path).get_object(charge["id"]) is None
