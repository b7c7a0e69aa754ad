"""Idempotency as Stripe keeps it, and the faults a payment integration must survive."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.errors import StripeError
from stripe_emulator.faults import FaultPlan, WriteRateLimiter
from stripe_emulator.idempotency import IdempotencyStore, fingerprint

from .conftest import API_VERSION


def _transfer(client, destination, key, amount=100):
    return client.v1.transfers.create(
        params={"amount": amount, "currency": "usd", "destination": destination}, options={"idempotency_key": key}
    )


@pytest.fixture
def funded(emulator, onboarded_account) -> str:
    emulator.add_platform_funds(100_000)
    return onboarded_account


def test_same_key_replays_the_first_response(http, emulator, funded):
    body = {"amount": "100", "currency": "usd", "destination": funded}
    first = http.post(f"{http.base}/v1/transfers", data=body, headers={"Idempotency-Key": "k1"})
    again = http.post(f"{http.base}/v1/transfers", data=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(emulator.objects("transfer")) == 1


def test_same_key_different_params_is_an_idempotency_error(client, emulator, funded):
    _transfer(client, funded, "payout-1", amount=100)
    with pytest.raises(stripe.IdempotencyError):
        _transfer(client, funded, "payout-1", amount=101)
    assert len(emulator.objects("transfer")) == 1


def test_errors_are_replayed_too(client, emulator, onboarded_account):
    with pytest.raises(stripe.InvalidRequestError) as first:
        _transfer(client, onboarded_account, "payout-2")
    emulator.add_platform_funds(10_000)  # funds arrive, but the key remembers its first answer
    with pytest.raises(stripe.InvalidRequestError) as again:
        _transfer(client, onboarded_account, "payout-2")
    assert first.value.code == again.value.code == "balance_insufficient"
    assert again.value.headers["Idempotent-Replayed"] == "true"
    assert _transfer(client, onboarded_account, "payout-2b").amount == 100


def test_contract_violations_are_not_stored(client, emulator, funded):
    stored = len(emulator.idempotency)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.create(
            params={"amount": 100, "currency": "usd", "destination": funded, "bogus": 1},
            options={"idempotency_key": "k-bad"},
        )
    assert len(emulator.idempotency) == stored


def test_keys_are_scoped_per_account(client, emulator, funded):
    client.v1.payouts.create(params={"amount": 1, "currency": "usd"}, options={"idempotency_key": "same"})
    _transfer(client, funded, "other")
    client.v1.payouts.create(
        params={"amount": 1, "currency": "usd"}, options={"idempotency_key": "same", "stripe_account": funded}
    )
    assert len(emulator.objects("payout")) == 1 and len(emulator.objects("payout", account=funded)) == 1


@pytest.mark.parametrize("kind", ["error_500", "rate_limit"])
def test_sdk_retries_through_500_and_429(client, emulator, funded, kind):
    emulator.inject_fault(kind, method="POST", path_prefix="/v1/transfers", count=2)
    transfer = _transfer(client, funded, f"retry-{kind}")
    posts = emulator.requests("POST", "/v1/transfers")
    assert [r["status"] for r in posts] == [500 if kind == "error_500" else 429] * 2 + [200]
    assert {r["idempotency_key"] for r in posts} == {f"retry-{kind}"}
    assert [t["id"] for t in emulator.objects("transfer")] == [transfer.id]
    assert emulator.list_faults() == []


def test_429_says_retry(http, emulator):
    emulator.inject_fault("rate_limit", path_prefix="/v1/balance")
    response = http.get(f"{http.base}/v1/balance")
    assert response.status_code == 429 and response.headers["Stripe-Should-Retry"] == "true"


def test_lost_response_is_retried_and_replayed(client, emulator, funded):
    emulator.inject_fault("lost_response", method="POST", path_prefix="/v1/transfers")
    transfer = _transfer(client, funded, "lost-1")
    posts = emulator.requests("POST", "/v1/transfers")
    assert [(r["fault"], r["replayed"]) for r in posts] == [("lost_response", False), (None, True)]
    assert [t["id"] for t in emulator.objects("transfer")] == [transfer.id]


def test_lost_response_without_retries_surfaces_a_connection_error(make_client, emulator, funded):
    client = make_client(max_network_retries=0)
    emulator.inject_fault("lost_response", method="POST", path_prefix="/v1/transfers")
    with pytest.raises(stripe.APIConnectionError):
        _transfer(client, funded, "lost-2")
    assert len(emulator.objects("transfer")) == 1  # the write happened


def test_timeout_is_retried_and_converges(make_client, emulator, funded):
    client = make_client(timeout=0.5)
    emulator.inject_fault("timeout", method="POST", path_prefix="/v1/transfers", seconds=5)
    transfer = _transfer(client, funded, "slow-1")
    assert [t["id"] for t in emulator.objects("transfer")] == [transfer.id]
    assert [r["replayed"] for r in emulator.requests("POST", "/v1/transfers")] == [False, True]


def test_write_rate_limit(make_client, emulator, funded):
    emulator.rate_limiter = WriteRateLimiter(2, monotonic=lambda: 100.0)
    client = make_client(max_network_retries=0)
    _transfer(client, funded, "r1")
    client.v1.balance.retrieve()  # reads are not limited
    _transfer(client, funded, "r2")
    with pytest.raises(stripe.RateLimitError):
        _transfer(client, funded, "r3")


def test_rate_limiter_window_rolls():
    now = [0.0]
    limiter = WriteRateLimiter(1, monotonic=lambda: now[0])
    assert limiter.allow() and not limiter.allow()
    now[0] = 1.0
    assert limiter.allow()
    assert WriteRateLimiter(None).allow()


def test_fault_plan_matching():
    plan = FaultPlan()
    plan.add("error_500", method="POST", path_prefix="/v1/transfers", count=2)
    assert plan.take("GET", "/v1/transfers") is None
    assert plan.take("POST", "/v1/payouts") is None
    assert plan.take("POST", "/v1/transfers/tr_1/reversals").kind == "error_500"
    assert plan.list()[0]["remaining"] == 1
    plan.take("POST", "/v1/transfers")
    assert plan.list() == []
    with pytest.raises(ValueError):
        plan.add("meteor_strike")


def test_control_api_over_http(http, emulator, funded):
    base = f"{http.base}/_emulator"
    assert http.get(f"{base}/status").json()["contract_checks_enabled"] is True
    rule = http.post(f"{base}/faults", json={"kind": "error_500", "path_prefix": "/v1/balance"}).json()
    assert http.get(f"{base}/faults").json()["faults"] == [rule]
    assert http.get(f"{http.base}/v1/balance").status_code == 500
    charge = http.post(f"{base}/platform_funds", json={"amount": 1000, "currency": "usd"}).json()
    assert charge["object"] == "charge"
    assert http.post(f"{base}/disputes", json={"charge": charge["id"]}).json()["object"] == "dispute"
    log = http.get(f"{base}/requests", params={"path_prefix": "/v1/balance"}).json()["requests"]
    assert [r["status"] for r in log] == [500]
    assert http.post(f"{base}/rate_limit", json={"writes_per_second": 5}).json() == {"writes_per_second": 5}
    assert http.get(f"{base}/objects/dispute").json()["data"][0]["charge"] == charge["id"]
    assert http.delete(f"{base}/faults").json() == {"faults": []}
    assert http.post(f"{base}/faults", json={"kind": "nope"}).status_code == 400
    assert http.get(f"{base}/nothing-here").status_code == 404
    assert http.post(f"{base}/reset").json() == {"reset": True}
    assert emulator.objects("charge") == [] and emulator.requests() == []


def test_a_key_in_flight_answers_409_retryable():
    store = IdempotencyStore()
    scope, print_ = ("acct_platform", "k"), fingerprint("POST", "/v1/transfers", {"amount": 1})
    assert store.begin(scope, print_) is None
    with pytest.raises(StripeError) as caught:
        store.begin(scope, print_)
    assert caught.value.status == 409 and caught.value.headers == {"Stripe-Should-Retry": "true"}
    store.finish(scope, print_, 200, b"{}")
    assert store.begin(scope, print_).body == b"{}"
    store.abandon(("acct_platform", "other"))


def test_concurrent_writers_with_overlapping_keys(stripe_emulator, emulator, funded):
    """8 threads send 40 transfers over 20 keys at once: 20 transfers, balances consistent."""
    import threading

    start_balance = emulator.available_balance("usd")
    errors: list[BaseException] = []
    gate = threading.Barrier(8)

    def worker(index: int) -> None:
        http = stripe.RequestsClient(timeout=10)
        client = stripe.StripeClient(
            "sk_test_x",
            base_addresses={"api": stripe_emulator.url},
            stripe_version=API_VERSION,
            max_network_retries=5,
            http_client=http,
        )
        try:
            gate.wait()
            for n in range(5):
                key = f"item-{(index * 5 + n) % 20}"
                _transfer(client, funded, key, amount=10)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            http.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(emulator.objects("transfer")) == 20
    assert emulator.available_balance("usd") == start_balance - 200
    assert emulator.available_balance("usd", account=funded) == 200
