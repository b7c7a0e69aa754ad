"""Fixtures: the app wired to the Stripe emulator (tests/payments/harness.py) with a
``Books`` helper for arranging a month; the emulator's clock is the app's clock."""

from __future__ import annotations

import pytest

from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator
from tests.payments.harness import pay_world, pay_world_any_db, seeded_sqlite

from .books import Books


@pytest.fixture
def books(pay_world):
    """SQLite."""
    return Books(pay_world)


@pytest.fixture
def books_any_db(pay_world_any_db):
    """SQLite and PostgreSQL."""
    return Books(pay_world_any_db)
