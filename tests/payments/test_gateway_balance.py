"""``PaymentGateway.retrieve_balance``: the platform's Stripe balance per currency, what is
available now and what is pending (card payments settle days later), in ledger units."""

from __future__ import annotations

from app.payments.gateway import PlatformBalance


def test_available_and_pending_funds_per_currency(gateway, emulator):
    emulator.add_platform_funds(50_000, "usd")  # Stripe's "bypass pending" test card: available at once
    session = gateway.create_checkout_session(
        amount=10_000,
        currency="USD",
        product_name="licence fee",
        success_url="https://brand.example/paid",
        cancel_url="https://brand.example/back",
        idempotency_key="balance-test-1",
    )
    emulator.pay_checkout_session(session.id)  # a card payment: pending for two days
    jpy = gateway.create_checkout_session(
        amount=5_000,
        currency="JPY",
        product_name="licence fee",
        success_url="https://brand.example/paid",
        cancel_url="https://brand.example/back",
        idempotency_key="balance-test-2",
    )
    emulator.pay_checkout_session(jpy.id)
    balance = gateway.retrieve_balance()
    assert isinstance(balance, PlatformBalance)
    assert balance.available_in("USD") == emulator.available_balance("usd") == 50_000 - 1_480
    assert balance.pending_in("USD") == 10_000 - 320  # net of Stripe's fee
    assert balance.pending_in("JPY") == 5_000 - 145 and balance.available_in("JPY") == 0  # ¥145 fee, whole yen
    assert balance.available_in("EUR") == 0
    emulator.release_pending_funds()
    after = gateway.retrieve_balance()
    assert after.available_in("USD") == 50_000 - 1_480 + 10_000 - 320 and after.pending_in("USD") == 0
