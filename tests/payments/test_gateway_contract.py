"""StripeGateway over the real SDK, HTTP and the emulator: every operation, every error."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import stripe

from app.payments.backend import make_gateway
from app.payments.gateway import (
    GatewayAuthError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InsufficientPlatformFunds,
    InvalidPaymentRequest,
    PaymentGateway,
    RateLimited,
)
from app.payments.stripe_gateway import StripeGateway

from .support import TEST_KEY, WEBHOOK_SECRET, gateway_for

ROOT = Path(__file__).resolve().parents[2]


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _paid_session(gateway, emulator, amount=10_000, key="licence-1-checkout"):
    session = gateway.create_checkout_session(
        amount=amount,
        currency="USD",
        product_name="Cameo licence",
        success_url="https://shop.test/ok",
        cancel_url="https://shop.test/cancel",
        metadata={"licence_id": "1"},
        idempotency_key=key,
        client_reference_id="licence-1",
    )
    emulator.pay_checkout_session(session.id)
    return gateway.retrieve_checkout_session(session.id)


# -- the factory and the boundary -------------------------------------------------------------
def test_make_gateway_builds_a_stripe_gateway(stripe_emulator):
    gateway = make_gateway(
        {
            "STRIPE_SECRET_KEY": TEST_KEY,
            "STRIPE_API_BASE": stripe_emulator.url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_TIMEOUT_SECONDS": "4",
            "STRIPE_MAX_NETWORK_RETRIES": "1",
        }
    )
    try:
        assert isinstance(gateway, StripeGateway) and isinstance(gateway, PaymentGateway)
        assert gateway.api_base == stripe_emulator.url
    finally:
        gateway.close()
    with pytest.raises(GatewayAuthError):
        make_gateway({})


def test_every_request_pins_the_spec_version(gateway, emulator, creator_account):
    from app.payments.stripe_gateway import STRIPE_API_VERSION

    gateway.retrieve_account(creator_account)
    list(gateway.list_transfers())
    sent = emulator.requests()
    assert sent and {r["stripe_version"] for r in sent} == {STRIPE_API_VERSION}
    assert STRIPE_API_VERSION == emulator.api_version == emulator.spec.version == "2024-04-10"


def test_importing_app_payments_does_not_import_stripe():
    code = "import sys, app.payments; assert 'stripe' not in sys.modules, 'stripe imported eagerly'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_only_the_gateway_module_imports_stripe():
    importers = []
    for folder in ("app", "ledger"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and node.level == 0
                    else []
                )
                if any(n == "stripe" or n.startswith("stripe.") for n in names):
                    importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["app/payments/stripe_gateway.py"]


# -- Connect ------------------------------------------------------------------------------------
def test_connected_account_onboarding(gateway, emulator, stripe_emulator):
    account = gateway.create_connected_account(
        email="ada@example.com", country="gb", idempotency_key="creator-7-account", metadata={"creator": "7"}
    )
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False,) * 3
    assert account.requirements_due and account.country == "GB"
    again = gateway.create_connected_account(
        email="ada@example.com", country="gb", idempotency_key="creator-7-account", metadata={"creator": "7"}
    )
    assert again.id == account.id and len(emulator.objects("account")) == 1
    url = gateway.create_account_link(
        account_id=account.id, refresh_url="https://shop.test/r", return_url="https://shop.test/back"
    )
    assert url.startswith(stripe_emulator.url + "/_emulator/onboard/")
    emulator.complete_onboarding(account.id)
    enabled = gateway.retrieve_account(account.id)
    assert enabled.payouts_enabled and enabled.charges_enabled and enabled.requirements_due == ()


def test_unknown_account_is_an_invalid_request(gateway):
    with pytest.raises(InvalidPaymentRequest) as caught:
        gateway.retrieve_account("acct_missing")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"


# -- money in -----------------------------------------------------------------------------------
def test_checkout_charge_and_refund(gateway, emulator):
    session = _paid_session(gateway, emulator)
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert (session.amount_total, session.currency) == (10_000, "USD")
    assert session.metadata == {"licence_id": "1"} and session.client_reference_id == "licence-1"
    charge = gateway.retrieve_charge(payment_intent_id=session.payment_intent_id)
    assert (charge.amount, charge.fee, charge.net, charge.currency) == (10_000, 320, 9_680, "USD")
    assert charge.balance_transaction_id.startswith("txn_")
    assert gateway.retrieve_charge(charge_id=charge.id) == charge
    refund = gateway.refund(session.payment_intent_id, amount=2_500, idempotency_key="licence-1-refund")
    assert (refund.amount, refund.currency, refund.charge_id) == (2_500, "USD", charge.id)
    assert gateway.retrieve_charge(charge_id=charge.id).amount_refunded == 2_500
    with pytest.raises(ValueError):
        gateway.retrieve_charge()


def test_unpaid_session_has_no_charge(gateway):
    session = gateway.create_checkout_session(
        amount=500,
        currency="EUR",
        product_name="x",
        success_url="https://s",
        cancel_url="https://c",
        idempotency_key="licence-2-checkout",
    )
    assert (session.status, session.payment_status, session.payment_intent_id) == ("open", "unpaid", None)
    assert session.url and session.currency == "EUR"


# -- money out ----------------------------------------------------------------------------------
def test_transfer_reverse_and_list(gateway, emulator, emulator_clock, creator_account, funded_platform):
    start = _utc(emulator_clock.now)
    transfer = gateway.create_transfer(
        amount=4_000,
        currency="USD",
        destination=creator_account,
        transfer_group="period-2025-10",
        metadata={"payout_item": "11"},
        idempotency_key="payout-item-11",
    )
    assert (transfer.amount, transfer.currency, transfer.destination) == (4_000, "USD", creator_account)
    assert transfer.metadata == {"payout_item": "11"} and transfer.created == start
    emulator_clock.advance(3600)
    gateway.create_transfer(
        amount=1_000,
        currency="USD",
        destination=creator_account,
        transfer_group="period-2025-11",
        idempotency_key="payout-item-12",
    )
    reversal = gateway.reverse_transfer(transfer.id, amount=1_500, idempotency_key="payout-item-11-reversal")
    assert (reversal.amount, reversal.transfer_id, reversal.currency) == (1_500, transfer.id, "USD")
    [listed] = gateway.list_transfers(transfer_group="period-2025-10")
    assert (listed.amount_reversed, listed.reversed) == (1_500, False)
    in_window = list(gateway.list_transfers(created_gte=start, created_lt=start + timedelta(minutes=1)))
    assert [t.id for t in in_window] == [transfer.id]
    full = gateway.reverse_transfer(transfer.id, idempotency_key="payout-item-11-reversal-2")
    assert full.amount == 2_500 and next(gateway.list_transfers(transfer_group="period-2025-10")).reversed


def test_list_transfers_auto_paginates(gateway, emulator, creator_account, funded_platform):
    for index in range(105):
        gateway.create_transfer(
            amount=1,
            currency="USD",
            destination=creator_account,
            transfer_group="many",
            idempotency_key=f"item-{index}",
        )
    assert len(list(gateway.list_transfers(transfer_group="many"))) == 105
    assert len(emulator.requests("GET", "/v1/transfers")) == 2  # pages of 100


def test_list_balance_transactions(gateway, emulator, emulator_clock, creator_account):
    emulator.set_available_delay(0)  # this test is about listing: the charge's funds pay the transfers
    start = _utc(emulator_clock.now)
    _paid_session(gateway, emulator)
    gateway.create_transfer(amount=1_000, currency="USD", destination=creator_account, idempotency_key="payout-item-1")
    emulator_clock.advance(86_400)
    gateway.create_transfer(amount=500, currency="USD", destination=creator_account, idempotency_key="payout-item-2")
    day = list(gateway.list_balance_transactions(created_gte=start, created_lt=start + timedelta(days=1)))
    assert sorted((t.type, t.amount, t.fee, t.net) for t in day) == [
        ("charge", 10_000, 320, 9_680),
        ("transfer", -1_000, 0, -1_000),
    ]
    transfers = list(
        gateway.list_balance_transactions(created_gte=start, created_lt=start + timedelta(days=2), type="transfer")
    )
    assert [t.amount for t in transfers] == [-500, -1_000] and transfers[0].currency == "USD"
    assert transfers[0].source.startswith("tr_")


def test_insufficient_platform_funds(gateway, creator_account):
    with pytest.raises(InsufficientPlatformFunds) as caught:
        gateway.create_transfer(
            amount=1, currency="USD", destination=creator_account, idempotency_key="payout-item-broke"
        )
    assert caught.value.code == "balance_insufficient"


def test_wrong_parameter_is_caught_by_the_contract_check(gateway, creator_account, funded_platform):
    with pytest.raises(stripe.InvalidRequestError) as caught:  # raw SDK: the emulator's own check
        gateway.client.v1.transfers.create(
            params={"amount": 1, "currency": "usd", "destination": creator_account, "bogus": 1}
        )
    assert caught.value.param == "bogus"
    with pytest.raises(InvalidPaymentRequest) as translated:
        gateway.create_transfer(
            amount=1,
            currency="USD",
            destination=creator_account,
            metadata={"k": {"nested": "no"}},  # type: ignore[dict-item]
            idempotency_key="payout-item-nested",
        )
    assert translated.value.param == "metadata[k]"
    with pytest.raises(TypeError):
        gateway.create_transfer(
            amount=1.5,
            currency="USD",
            destination=creator_account,  # type: ignore[arg-type]
            idempotency_key="payout-item-float",
        )


# -- idempotency and faults ---------------------------------------------------------------------
def test_transfer_after_a_lost_response_happens_once(gateway, emulator, creator_account, funded_platform):
    emulator.inject_fault("lost_response", method="POST", path_prefix="/v1/transfers")
    transfer = gateway.create_transfer(
        amount=700, currency="USD", destination=creator_account, idempotency_key="payout-item-21"
    )
    assert [t["id"] for t in emulator.objects("transfer")] == [transfer.id]
    posts = emulator.requests("POST", "/v1/transfers")
    assert [(r["idempotency_key"], r["fault"], r["replayed"]) for r in posts] == [
        ("payout-item-21", "lost_response", False),
        ("payout-item-21", None, True),
    ]
    # a crashed-and-restarted settlement run repeats the key: still one transfer
    again = gateway.create_transfer(
        amount=700, currency="USD", destination=creator_account, idempotency_key="payout-item-21"
    )
    assert again.id == transfer.id and len(emulator.objects("transfer")) == 1


def test_same_key_different_params_is_reused_key(gateway, creator_account, funded_platform):
    gateway.create_transfer(amount=700, currency="USD", destination=creator_account, idempotency_key="k-22")
    with pytest.raises(IdempotencyKeyReused):
        gateway.create_transfer(amount=701, currency="USD", destination=creator_account, idempotency_key="k-22")


@pytest.mark.parametrize("kind", ["error_500", "rate_limit", "timeout"])
def test_transient_faults_are_retried_and_converge(
    stripe_emulator, emulator, creator_account, funded_platform, fast_sdk_retries, kind
):
    gateway = gateway_for(stripe_emulator.url, timeout=0.5)
    try:
        emulator.inject_fault(kind, method="POST", path_prefix="/v1/transfers", count=2, seconds=5)
        transfer = gateway.create_transfer(
            amount=300, currency="USD", destination=creator_account, idempotency_key=f"payout-item-{kind}"
        )
    finally:
        gateway.close()
    assert [t["id"] for t in emulator.objects("transfer")] == [transfer.id]
    assert len(emulator.requests("POST", "/v1/transfers")) == 3


def test_persistent_faults_become_project_errors(gateway, emulator, creator_account, funded_platform):
    emulator.inject_fault("error_500", path_prefix="/v1/transfers", count=10)
    with pytest.raises(GatewayUnavailable):
        gateway.create_transfer(amount=1, currency="USD", destination=creator_account, idempotency_key="p-1")
    emulator.clear_faults()
    emulator.inject_fault("rate_limit", path_prefix="/v1/accounts", count=10)
    with pytest.raises(RateLimited):
        gateway.retrieve_account(creator_account)
    assert len(emulator.requests("GET", "/v1/accounts")) == 4  # 1 + max_network_retries


def test_bad_key_and_unreachable_host(stripe_emulator):
    gateway = StripeGateway("sk_live_not_here", api_base=stripe_emulator.url, max_network_retries=0)
    try:
        with pytest.raises(GatewayAuthError):
            gateway.retrieve_account("acct_x")
    finally:
        gateway.close()
    offline = StripeGateway(TEST_KEY, api_base="http://127.0.0.1:9", max_network_retries=0, timeout=2)
    try:
        with pytest.raises(GatewayUnavailable):
            offline.retrieve_account("acct_x")
    finally:
        offline.close()
