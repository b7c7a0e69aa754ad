"""Fixtures for the emulator's own tests: a running emulator, raw SDK clients, raw HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
import stripe

from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator

TEST_KEY = "sk_test_emulator"
API_VERSION = "2024-04-10"  # the emulator speaks its spec's version only


@pytest.fixture
def make_client(stripe_emulator, fast_sdk_retries) -> Iterator[Callable[..., stripe.StripeClient]]:
    """Factory of real StripeClients aimed at the emulator (closed after the test)."""
    opened: list[stripe.RequestsClient] = []

    def make(
        *,
        max_network_retries: int = 2,
        timeout: float = 10.0,
        api_key: str = TEST_KEY,
        stripe_account: str | None = None,
    ) -> stripe.StripeClient:
        http = stripe.RequestsClient(timeout=timeout)
        opened.append(http)
        base = stripe_emulator.url
        return stripe.StripeClient(
            api_key,
            stripe_account=stripe_account,
            stripe_version=API_VERSION,
            base_addresses={"api": base, "connect": base, "files": base, "meter_events": base},
            max_network_retries=max_network_retries,
            http_client=http,
        )

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def client(make_client) -> stripe.StripeClient:
    """A raw SDK client with 2 retries."""
    return make_client()


@pytest.fixture
def emulator(stripe_emulator):
    """The :class:`~stripe_emulator.Emulator` behind the running server."""
    return stripe_emulator.emulator


@pytest.fixture
def http(stripe_emulator) -> Iterator[requests.Session]:
    """Plain HTTP to the emulator (``http.base`` is its URL), authenticated with a test key."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TEST_KEY}"
    session.base = stripe_emulator.url  # type: ignore[attr-defined]
    yield session
    session.close()


@pytest.fixture
def onboarded_account(client, emulator) -> str:
    account = client.v1.accounts.create(
        params={"type": "express", "email": "c@example.com", "capabilities": {"transfers": {"requested": True}}}
    )
    emulator.complete_onboarding(account.id)
    return account.id
