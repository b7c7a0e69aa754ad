"""The emulator enforces Stripe's contract: routes, auth, form encoding, params — and keeps to it."""

from __future__ import annotations

import gzip
import json
import logging
import os
import time

import pytest
import stripe

from stripe_emulator import Emulator, start_emulator
from stripe_emulator.forms import coerce, unflatten
from stripe_emulator.spec import SPEC_ENV_VAR, load_spec, locate_spec
from stripe_emulator.validation import to_json_schema

from .conftest import API_VERSION, TEST_KEY


# -- the spec --------------------------------------------------------------------------------
def test_spec_is_found_under_ci():
    """CI must run with contract checks on: a missing spec fails there instead of skipping."""
    path = locate_spec()
    if os.environ.get("CI") == "true":
        assert path is not None, "Stripe's OpenAPI spec not found: contract checks would be OFF in CI"
    elif path is None:
        pytest.skip("no Stripe spec on this machine (contract checks off)")
    assert load_spec(path).version == "2024-04-10"


def test_explicit_spec_path_wins_and_must_exist(tmp_path):
    plain = tmp_path / "spec.json"
    plain.write_text(json.dumps({"info": {"version": "test"}, "paths": {}, "components": {}}))
    assert locate_spec({SPEC_ENV_VAR: str(plain)}) == plain
    assert load_spec(plain).version == "test"
    zipped = tmp_path / "spec.json.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_spec(zipped).version == "test"
    with pytest.raises(FileNotFoundError):
        locate_spec({SPEC_ENV_VAR: str(tmp_path / "absent.json")})


def test_no_spec_anywhere_gives_none_without_npm(tmp_path):
    assert locate_spec({}, shared_path=tmp_path / "none.gz", cache_dir=tmp_path, fetch=False) is None


def test_startup_is_fast():
    if locate_spec() is None:
        pytest.skip("no spec")
    load_spec.cache_clear()
    started = time.perf_counter()
    Emulator()
    assert time.perf_counter() - started < 2.0


def test_without_spec_it_serves_but_says_checks_are_off(caplog, emulator_clock):
    with caplog.at_level(logging.WARNING, logger="stripe_emulator"):
        running = start_emulator(spec=None, clock=emulator_clock)
    try:
        assert running.emulator.contract_checks_enabled is False
        assert "CONTRACT CHECKS ARE OFF" in caplog.text
        http = stripe.RequestsClient()
        client = stripe.StripeClient(
            "sk_test_x", base_addresses={"api": running.url}, http_client=http, stripe_version=API_VERSION
        )
        account = client.v1.accounts.create(params={"email": "a@example.com"})
        running.emulator.complete_onboarding(account.id)
        running.emulator.add_platform_funds(10_000)
        transfer = client.v1.transfers.create(
            params={"amount": 500, "currency": "usd", "destination": account.id, "bogus": "unchecked"}
        )
        assert transfer.amount == 500
        assert len(list(client.v1.transfers.list(params={"limit": 1}).auto_paging_iter())) == 1
        http.close()
    finally:
        running.stop()


# -- forms -------------------------------------------------------------------------------------
def test_unflatten_rebuilds_stripe_nesting():
    pairs = [
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][quantity]", "2"),
        ("expand[]", "a"),
        ("expand[]", "b"),
        ("metadata[k]", "v"),
    ]
    assert unflatten(pairs) == {
        "line_items": {"0": {"price_data": {"currency": "usd"}, "quantity": "2"}},
        "expand": {"0": "a", "1": "b"},
        "metadata": {"k": "v"},
    }


def test_coerce_follows_the_schema():
    schema = to_json_schema(
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer"},
                "b": {"type": "boolean"},
                "x": {"type": "number"},
                "l": {"type": "array", "items": {"type": "integer"}},
                "m": {
                    "anyOf": [
                        {"type": "object", "additionalProperties": {"type": "string"}},
                        {"type": "string", "enum": [""]},
                    ]
                },
                "s": {"type": "string", "nullable": True},
            },
        }
    )
    value = {"n": "12", "b": "true", "x": "1.5", "l": {"1": "7", "0": "3"}, "m": "", "s": "12"}
    assert coerce(value, schema, lambda s: s) == {"n": 12, "b": True, "x": 1.5, "l": [3, 7], "m": "", "s": "12"}


def test_nullable_becomes_json_schema():
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"anyOf": [{"$ref": "#/x"}], "nullable": True}) == {
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}]
    }
    assert to_json_schema({"type": "string", "enum": ["a"], "nullable": True})["enum"] == ["a", None]


# -- requests are checked ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, param",
    [
        ({"amount": 100, "currency": "usd", "destination": "acct_x", "bogus": 1}, "bogus"),
        ({"amount": "lots", "currency": "usd", "destination": "acct_x"}, "amount"),
        ({"amount": 100, "currency": "usd"}, "destination"),
        ({"amount": 100, "currency": "usd", "destination": "acct_x", "metadata": {"k": {"deep": "x"}}}, "metadata[k]"),
    ],
)
def test_invalid_transfer_params_are_rejected_with_the_param(client, emulator, params, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params=params)
    assert caught.value.param == param
    assert caught.value.http_status == 400
    assert emulator.objects("transfer") == []


def test_unknown_nested_param_is_rejected(client):
    params = {
        "mode": "payment",
        "success_url": "https://x/s",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "n"}, "bogus": 1},
            }
        ],
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)
    assert caught.value.param == "line_items[0][price_data][bogus]"


def test_query_params_of_lists_are_checked(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.list(params={"nope": "1"})
    assert caught.value.param == "nope"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.balance_transactions.list(params={"limit": "many"})
    assert caught.value.param == "limit"


def test_unknown_route_is_404_with_stripe_envelope(http):
    response = http.get(f"{http.base}/v1/not_a_resource")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
    response = http.delete(f"{http.base}/v1/transfers")
    assert response.status_code == 404


def test_known_but_unimplemented_route_is_named(http):
    response = http.get(f"{http.base}/v1/customers")
    assert response.status_code == 404
    assert "does not implement GET /v1/customers" in response.json()["error"]["message"]


def test_api_key_is_required_and_must_be_a_test_key(stripe_emulator, make_client):
    import requests

    response = requests.get(f"{stripe_emulator.url}/v1/balance", timeout=5)
    assert response.status_code == 401 and "error" in response.json()
    with pytest.raises(stripe.AuthenticationError):
        make_client(api_key="sk_live_real_money").v1.balance.retrieve()


def test_post_bodies_must_be_form_encoded(http):
    response = http.post(f"{http.base}/v1/transfers", json={"amount": 1})
    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.json()["error"]["message"]


def test_the_spec_version_is_the_only_one_spoken(http, make_client):
    pinned = http.get(f"{http.base}/v1/balance", headers={"Stripe-Version": "2024-04-10"})
    unpinned = http.get(f"{http.base}/v1/balance")  # Stripe's "account default": the spec's version
    assert (pinned.status_code, unpinned.status_code) == (200, 200)
    assert pinned.headers["Stripe-Version"] == unpinned.headers["Stripe-Version"] == "2024-04-10"
    newer = http.get(f"{http.base}/v1/balance", headers={"Stripe-Version": "2099-01-01.future"})
    assert newer.status_code == 400 and "2099-01-01.future" in newer.json()["error"]["message"]
    assert newer.headers["Stripe-Version"] == "2024-04-10"
    sdk_default = stripe.StripeClient(TEST_KEY, base_addresses={"api": http.base}, max_network_retries=0)
    with pytest.raises(stripe.InvalidRequestError, match="speaks Stripe API version 2024-04-10 only"):
        sdk_default.v1.balance.retrieve()  # an unpinned SDK sends its own (newer) version
    assert make_client().v1.balance.retrieve().object == "balance"


def test_unknown_connected_account_header_is_refused(make_client):
    with pytest.raises(stripe.PermissionError):
        make_client(stripe_account="acct_unknown").v1.balance.retrieve()


# -- responses keep to the contract -------------------------------------------------------------
def test_every_object_the_emulator_returns_matches_its_schema(client, emulator, onboarded_account):
    """Drive every resource, then validate every stored object against the spec's schema."""
    emulator.add_platform_funds(50_000)
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://x/s",
            "cancel_url": "https://x/c",
            "line_items": [
                {
                    "quantity": 2,
                    "price_data": {"currency": "usd", "unit_amount": 1500, "product_data": {"name": "Licence"}},
                }
            ],
        }
    )
    paid = emulator.pay_checkout_session(session.id)
    transfer = client.v1.transfers.create(params={"amount": 1000, "currency": "usd", "destination": onboarded_account})
    client.v1.transfers.reversals.create(transfer.id, params={"amount": 100})
    client.v1.refunds.create(params={"payment_intent": paid["payment_intent"], "amount": 500})
    charge = client.v1.charges.list(params={"payment_intent": paid["payment_intent"]}).data[0]
    emulator.open_dispute(charge.id)
    client.v1.payouts.create(params={"amount": 300, "currency": "usd"}, options={"stripe_account": onboarded_account})
    link = client.v1.account_links.create(
        params={
            "account": onboarded_account,
            "type": "account_onboarding",
            "refresh_url": "https://x/r",
            "return_url": "https://x/d",
        }
    )
    assert link.url.startswith(emulator.public_url)
    checker = emulator.checker
    seen: set[str] = set()
    for book in emulator.store.books.values():
        for obj in book.objects.values():
            if obj["object"].startswith("_"):
                continue
            seen.add(obj["object"])
            assert checker.object_errors(obj["object"], emulator.get_object(obj["id"])) == [], obj["id"]
    assert {
        "account",
        "checkout.session",
        "payment_intent",
        "charge",
        "balance_transaction",
        "transfer",
        "transfer_reversal",
        "refund",
        "dispute",
        "payout",
        "event",
    } <= seen
    assert checker.object_errors("balance", client.v1.balance.retrieve().to_dict()) == []
    assert emulator.contract_violations == []


def test_response_violations_are_reported(emulator):
    op, _ = emulator.spec.find("get", "/v1/balance")
    assert emulator.checker.response_errors(op, 200, {"object": "balance"})
