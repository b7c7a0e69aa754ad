"""Helpers for tests that run the real ``stripe`` SDK against the emulator.

Importing this module imports pytest; only test code should. A ``conftest.py``
imports the fixtures it wants by name::

    from stripe_emulator.testing import emulator_clock, stripe_emulator  # noqa: F401

Fixtures
--------
``emulator_clock``
    a :class:`ManualClock` (epoch seconds) that moves only when told;
``stripe_emulator``
    a :class:`~stripe_emulator.server.RunningEmulator` on a random loopback port,
    driven by ``emulator_clock``, with ``check_responses="raise"`` — the test fails
    if the emulator ever answered off-contract. Card charges stay pending for two days
    of that clock, as on Stripe: a test that needs a charge's funds at once says so
    (``emulator.set_available_delay(0)``, ``release_pending_funds()`` or
    ``emulator_clock.advance(2 * 86_400)``); platform funds are available at once;
``fast_sdk_retries``
    shrinks stripe-python's retry backoff (0.5 s minimum per retry) so fault tests
    stay fast (the SDK is imported lazily: the emulator itself never needs it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import RunningEmulator, start_emulator

TEST_START_EPOCH = 1_760_529_600  # 2025-10-15T12:00:00Z


class ManualClock:
    """``clock()`` → epoch seconds; moves only with :meth:`advance`."""

    def __init__(self, start: int = TEST_START_EPOCH):
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> int:
        self.now += seconds
        return self.now


@pytest.fixture
def emulator_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stripe_emulator(emulator_clock: ManualClock) -> Iterator[RunningEmulator]:
    running = start_emulator(port=0, clock=emulator_clock, seed=1234, check_responses="raise")
    try:
        yield running
    finally:
        running.stop()
    assert running.emulator.contract_violations == [], running.emulator.contract_violations


@pytest.fixture
def fast_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    import stripe

    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.05)
