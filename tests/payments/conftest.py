"""Fixtures for the gateway contract tests: StripeGateway ↔ real SDK ↔ HTTP ↔ emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.payments.stripe_gateway import StripeGateway
from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator

from .support import gateway_for


@pytest.fixture
def emulator(stripe_emulator):
    return stripe_emulator.emulator


@pytest.fixture
def gateway(stripe_emulator, fast_sdk_retries) -> Iterator[StripeGateway]:
    """The project's gateway aimed at the running emulator (3 SDK retries, 5 s timeout)."""
    gw = gateway_for(stripe_emulator.url)
    yield gw
    gw.close()


@pytest.fixture
def creator_account(gateway, emulator) -> str:
    """A connected account that finished onboarding (transfers enabled)."""
    account = gateway.create_connected_account(
        email="creator@example.com", country="US", idempotency_key="creator-1-account"
    )
    emulator.complete_onboarding(account.id)
    return account.id


@pytest.fixture
def funded_platform(emulator) -> int:
    """Platform funds via the bypass-pending card; returns the available USD balance."""
    emulator.add_platform_funds(100_000, "usd")
    return emulator.available_balance("usd")
