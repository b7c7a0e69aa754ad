"""Periods and the pure decision rules of planning."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest

from app.payments.payout_status import PayoutStatus
from app.settlement.planning import (
    Decision,
    InvalidPeriod,
    Period,
    PlanLine,
    decide,
    min_payout_for,
    period_before,
    transfer_group,
)
from app.settlement.service import payout_key, reserve_key, transfer_idempotency_key


def test_periods_are_calendar_months_in_utc():
    december = Period.parse("2026-12")
    assert (december.starts_at, december.ends_at) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert transfer_group(december) == "settlement-2026-12"
    assert period_before(datetime(2027, 1, 1, 6, tzinfo=UTC)) == december
    for bad in ("2026-00", "2026-13", "26-10", "2026-1", "", "2026-10-01"):
        with pytest.raises(InvalidPeriod, match="YYYY-MM"):
            Period.parse(bad)


def test_keys_follow_the_shared_contract():
    assert (payout_key(7), payout_key(7, 2)) == ("payout:item:7", "payout:item:7:2")
    assert (transfer_idempotency_key(7), transfer_idempotency_key(7, 3)) == ("payout-item-7", "payout-item-7-3")
    assert reserve_key("2026-10", 4, "EUR") == "settlement:2026-10:reserve:4:EUR"


def test_decisions():
    payable = PayoutStatus("acct_1", True, None)
    held = PayoutStatus(None, False, "No Stripe account is connected yet: connect one from your dashboard.")
    lines = [
        PlanLine(1, "USD", 5_000, 1_000, 0),
        PlanLine(2, "USD", 999, 0, 0),
        PlanLine(3, "USD", 5_000, 0, 0),
        PlanLine(1, "JPY", 2_000, 2_000, 500),
        PlanLine(1, "KWD", 10_000, 0, 0),
    ]
    statuses = {1: payable, 2: payable, 3: held}
    got = decide(lines, statuses, {"USD": 1_000})
    assert [(d.status, d.destination) for d in got] == [
        ("planned", "acct_1"),
        ("below_minimum", None),
        ("held", None),
        ("below_minimum", None),
        ("planned", "acct_1"),
    ]
    assert got[0].line.amount == 4_000 and got[3].line.reserve_move == 1_500
    assert "until the licence's holdback days have passed" in got[3].hold_reason
    assert got[2].hold_reason == held.hold_reason
    assert min_payout_for("KWD", {}) == 10_000 and min_payout_for("JPY", {}) == 10
    assert isinstance(got[0], Decision)
