"""Currencies: one ISO table, Stripe's exceptions stated twice and held together, exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.payments import stripe_currencies as app_side
from app.payments.gateway import InvalidPaymentRequest
from app.payments.stripe_currencies import (
    StripeAmountError,
    from_stripe_amount,
    max_charge_minor,
    to_ledger_units,
    to_stripe_amount,
)
from ledger.money import CURRENCY_EXPONENTS
from stripe_emulator import money as emulator_side

from .support import WEBHOOK_SECRET


# -- the facts ------------------------------------------------------------------------------------
def test_the_app_and_the_emulator_state_the_same_stripe_facts():
    def lower(codes):
        return {code.lower() for code in codes}

    for name in (
        "CHARGE_CURRENCIES",
        "ZERO_DECIMAL",
        "WHOLE_UNITS_WITH_TWO_DECIMALS",
        "THREE_DECIMAL",
        "WHOLE_UNIT_PAYOUTS",
    ):
        assert lower(getattr(app_side, name)) == set(getattr(emulator_side, name)), name
    assert {k.lower(): v for k, v in app_side.MAX_AMOUNT_DIGITS.items()} == emulator_side.MAX_AMOUNT_DIGITS
    assert app_side.DEFAULT_MAX_AMOUNT_DIGITS == emulator_side.DEFAULT_MAX_AMOUNT_DIGITS
    for code in app_side.CHARGE_CURRENCIES:
        assert app_side.api_exponent(code) == emulator_side.api_exponent(code.lower()), code
        for kind in ("charge", "transfer", "payout"):
            assert app_side.amount_step(code, kind) == emulator_side.amount_step(code.lower(), kind), (code, kind)
        assert emulator_side.iso_exponent(code.lower()) == CURRENCY_EXPONENTS[code]


def test_every_stripe_currency_has_an_iso_exponent_and_only_three_differ():
    assert set(CURRENCY_EXPONENTS) >= app_side.CHARGE_CURRENCIES
    differ = {code for code in app_side.CHARGE_CURRENCIES if app_side.api_exponent(code) != CURRENCY_EXPONENTS[code]}
    assert differ == {"ISK", "UGX", "MGA"}


@pytest.mark.parametrize(
    "currency,largest",
    [
        ("USD", 99_999_999),
        ("JPY", 99_999_999),
        ("AUD", 99_999_999),
        ("KWD", 99_999_990),
        ("ISK", 999_999),
        ("UGX", 999_999),
        ("MGA", 9_999_999_900),
        ("IDR", 999_999_999_999),
        ("INR", 999_999_999),
    ],
)
def test_max_charge_minor(currency, largest):
    assert max_charge_minor(currency) == largest
    assert to_stripe_amount(largest, currency) <= emulator_side.max_amount(currency.lower())


@pytest.mark.parametrize(
    "minor,currency,stripe_amount",
    [
        (1_234, "JPY", 1_234),
        (1_234, "AUD", 1_234),
        (1_230, "KWD", 1_230),
        (5, "ISK", 500),
        (7, "UGX", 700),
        (300, "MGA", 3),
    ],
)
def test_conversions_are_exact_both_ways(minor, currency, stripe_amount):
    assert to_stripe_amount(minor, currency) == stripe_amount
    assert from_stripe_amount(stripe_amount, currency) == minor


def test_what_cannot_be_said_exactly_is_refused():
    with pytest.raises(StripeAmountError) as caught:
        to_stripe_amount(150, "MGA")  # 1.50 ariary: Stripe counts whole ariary
    assert caught.value.code == "invalid_charge_amount"
    with pytest.raises(StripeAmountError):
        from_stripe_amount(550, "ISK")  # 5.50 króna: no such thing any more
    with pytest.raises(TypeError):
        to_stripe_amount(1.5, "USD")  # type: ignore[arg-type]
    for code in ("XYZ", "CUP", "XAU", ""):
        with pytest.raises(StripeAmountError) as unknown:
            max_charge_minor(code)
        assert (unknown.value.code, unknown.value.param) == ("currency_not_supported", "currency")


def test_stripe_objects_come_back_in_ledger_units():
    dispute = {
        "object": "dispute",
        "amount": 50_000,
        "currency": "isk",
        "balance_transactions": [{"amount": -50_000, "fee": 1_500, "net": -51_500, "currency": "isk"}],
        "charge": {"amount": 50_000, "amount_refunded": 0, "currency": "isk", "created": 1_700_000_000},
    }
    assert to_ledger_units(dispute) == {
        "object": "dispute",
        "amount": 500,
        "currency": "isk",
        "balance_transactions": [{"amount": -500, "fee": 15, "net": -515, "currency": "isk"}],
        "charge": {"amount": 500, "amount_refunded": 0, "currency": "isk", "created": 1_700_000_000},
    }


# -- through the gateway, the SDK and the emulator ------------------------------------------------
ROUND_TRIPS = [  # currency, charge, its fee, a transfer, a reversal, a refund (ledger minor units)
    pytest.param("JPY", 12_345, 358, 5_000, 1_000, 2_345, id="JPY-0-decimals"),
    pytest.param("AUD", 10_000, 320, 4_000, 1_500, 2_500, id="AUD-2-decimals"),
    pytest.param("KWD", 12_340, 658, 5_000, 1_230, 2_340, id="KWD-3-decimals"),
    pytest.param("ISK", 5_000, 145, 2_000, 300, 1_000, id="ISK-whole-units-written-with-2-decimals"),
]


@pytest.mark.parametrize("currency,amount,fee,transfer,reversal,refund", ROUND_TRIPS)
def test_round_trip_through_the_gateway(
    gateway, emulator, emulator_clock, creator_account, currency, amount, fee, transfer, reversal, refund
):
    start = datetime.fromtimestamp(emulator_clock.now, tz=UTC)
    stripe_units = 100 if currency == "ISK" else 1
    session = gateway.create_checkout_session(
        amount=amount,
        currency=currency,
        product_name="Cameo licence",
        success_url="https://s/ok",
        cancel_url="https://s/no",
        idempotency_key=f"licence-{currency}",
    )
    assert (session.amount_total, session.currency) == (amount, currency)
    emulator.pay_checkout_session(session.id)
    paid = gateway.retrieve_checkout_session(session.id)
    charge = gateway.retrieve_charge(payment_intent_id=paid.payment_intent_id)
    assert (charge.amount, charge.fee, charge.net, charge.currency) == (amount, fee, amount - fee, currency)
    [stored] = emulator.objects("charge")  # the emulator saw Stripe's units
    assert (stored["amount"], stored["currency"]) == (amount * stripe_units, currency.lower())
    assert emulator.get_object(stored["balance_transaction"])["fee"] == fee * stripe_units
    emulator_clock.advance(2 * 86_400)  # the charge's funds become available
    sent = gateway.create_transfer(
        amount=transfer, currency=currency, destination=creator_account, idempotency_key=f"payout-{currency}"
    )
    assert (sent.amount, sent.currency, sent.amount_reversed) == (transfer, currency, 0)
    assert emulator.available_balance(currency, account=creator_account) == transfer * stripe_units
    back = gateway.reverse_transfer(sent.id, amount=reversal, idempotency_key=f"payout-{currency}-rev")
    assert (back.amount, back.currency) == (reversal, currency)
    [listed] = gateway.list_transfers()
    assert (listed.amount, listed.amount_reversed) == (transfer, reversal)
    refunded = gateway.refund(paid.payment_intent_id, amount=refund, idempotency_key=f"refund-{currency}")
    assert (refunded.amount, refunded.currency) == (refund, currency)
    assert emulator.objects("refund")[0]["amount"] == refund * stripe_units
    txns = {
        t.type: t for t in gateway.list_balance_transactions(created_gte=start, created_lt=start + timedelta(days=3))
    }
    assert (txns["charge"].amount, txns["charge"].fee, txns["charge"].net) == (amount, fee, amount - fee)
    assert (txns["transfer"].amount, txns["transfer_refund"].amount, txns["refund"].amount) == (
        -transfer,
        reversal,
        -refund,
    )
    assert emulator.available_balance(currency) == (amount - fee - transfer + reversal - refund) * stripe_units


def test_webhook_amounts_arrive_in_ledger_units(gateway, emulator, emulator_clock):
    seen = []

    def receiver(payload: bytes, headers: dict) -> int:
        now = datetime.fromtimestamp(emulator_clock.now, tz=UTC)
        seen.append(gateway.parse_webhook(payload, headers["Stripe-Signature"], now))
        return 200

    emulator.add_webhook_endpoint(WEBHOOK_SECRET, target=receiver, enabled_events=("charge.refunded",))
    session = gateway.create_checkout_session(
        amount=5_000,
        currency="ISK",
        product_name="x",
        success_url="https://s",
        cancel_url="https://c",
        idempotency_key="isk-hook",
    )
    intent = emulator.pay_checkout_session(session.id)["payment_intent"]
    gateway.refund(intent, amount=1_200, idempotency_key="isk-hook-refund")
    emulator.deliver_pending()
    [event] = seen
    assert (event.data_object["amount"], event.data_object["amount_refunded"]) == (5_000, 1_200)
    assert event.previous_attributes["amount_refunded"] == 0


@pytest.mark.parametrize("currency", ["XYZ", "CUP", "usdollar"])
def test_an_unknown_currency_is_refused_before_anything_is_sent(gateway, emulator, creator_account, currency):
    with pytest.raises(InvalidPaymentRequest) as caught:
        gateway.create_checkout_session(
            amount=1_000,
            currency=currency,
            product_name="x",
            success_url="https://s",
            cancel_url="https://c",
            idempotency_key="bad-currency",
        )
    assert (caught.value.code, caught.value.param) == ("currency_not_supported", "currency")
    assert "not a currency Stripe can charge in" in str(caught.value)
    with pytest.raises(InvalidPaymentRequest):
        gateway.create_transfer(amount=1, currency=currency, destination=creator_account, idempotency_key="bad-2")
    assert emulator.requests("POST", "/v1/checkout") == emulator.requests("POST", "/v1/transfers") == []


def test_amounts_stripe_refuses_become_invalid_requests(gateway, emulator, creator_account):
    with pytest.raises(InvalidPaymentRequest) as kwd:  # three-decimal charges end in 0
        gateway.create_checkout_session(
            amount=12_345,
            currency="KWD",
            product_name="x",
            success_url="https://s",
            cancel_url="https://c",
            idempotency_key="kwd-odd",
        )
    assert (kwd.value.code, kwd.value.http_status) == ("invalid_charge_amount", 400)
    with pytest.raises(InvalidPaymentRequest) as big:
        gateway.create_checkout_session(
            amount=max_charge_minor("ISK") + 1,
            currency="ISK",
            product_name="x",
            success_url="https://s",
            cancel_url="https://c",
            idempotency_key="isk-big",
        )
    assert big.value.code == "amount_too_large"
    assert (
        gateway.create_checkout_session(
            amount=max_charge_minor("ISK"),
            currency="ISK",
            product_name="x",
            success_url="https://s",
            cancel_url="https://c",
            idempotency_key="isk-max",
        ).amount_total
        == 999_999
    )
    with pytest.raises(InvalidPaymentRequest) as ariary:  # refused by the gateway: nothing to send
        gateway.create_checkout_session(
            amount=150,
            currency="MGA",
            product_name="x",
            success_url="https://s",
            cancel_url="https://c",
            idempotency_key="mga-frac",
        )
    assert ariary.value.code == "invalid_charge_amount"
    assert len(emulator.objects("checkout.session")) == 1
