"""Fixtures: a ``SettleWorld`` on SQLite (seeded template) and on SQLite + PostgreSQL."""

from __future__ import annotations

import shutil

import pytest

from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator
from tests.payments.harness import close_world, make_world, seeded_sqlite

from .world import SettleWorld


@pytest.fixture
def world(seeded_sqlite, tmp_path, stripe_emulator, emulator_clock, fast_sdk_retries):
    shutil.copyfile(seeded_sqlite, tmp_path / "cameo.db")
    pay = make_world(f"sqlite:///{tmp_path / 'cameo.db'}", tmp_path, stripe_emulator, emulator_clock, seeded=True)
    yield SettleWorld(pay)
    close_world(pay)


@pytest.fixture
def world_any_db(database_url, tmp_path, stripe_emulator, emulator_clock, fast_sdk_retries):
    pay = make_world(database_url, tmp_path, stripe_emulator, emulator_clock)
    yield SettleWorld(pay)
    close_world(pay)
