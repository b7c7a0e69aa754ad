"""Settlement runs end to end: thresholds, carry-forward, reserves, currencies, held creators.

Every scenario runs the real service against the emulator (real SDK over HTTP) on
SQLite and PostgreSQL, asserts balances to the cent, one transfer per paid item, and
that ``ledger verify`` passes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.db import Database
from app.kit.registry import provided
from app.payments.models import ConnectAccount
from app.settlement.errors import SettlementRefused

from .world import AFTER_NOV, AFTER_OCT, NOV, OCT


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_month_then_the_next(world_any_db):
    w = world_any_db
    for currency in ("usd", "eur", "jpy"):
        w.fund(10_000_000, currency)
    open_usd, held_usd = w.licence(holdback_days=0), w.licence(holdback_days=30)
    eur, jpy = w.licence(holdback_days=0, currency="EUR"), w.licence(holdback_days=0, currency="JPY")
    ava, ben = w.creator("ava"), w.creator("ben")
    chloe = w.creator("chloe", onboard=False)
    dan = w.creator("dan", connect=False)

    w.earn(ava, 50_00, at=utc(2026, 10, 5), licence_id=open_usd)
    w.earn(ava, 20_00, at=utc(2026, 10, 25), licence_id=held_usd)  # holdback until Nov 24
    w.earn(ava, 15_00, "EUR", at=utc(2026, 10, 6), licence_id=eur)
    w.earn(ava, 500, "JPY", at=utc(2026, 10, 7), licence_id=jpy)  # ¥500 < ¥1,000 minimum
    w.earn(ava, 5_00, at=utc(2026, 11, 1, 0, 30), licence_id=open_usd)  # November's
    w.earn(ben, 8_00, at=utc(2026, 10, 9), licence_id=open_usd)  # below the 10.00 minimum
    w.earn(chloe, 30_00, at=utc(2026, 10, 10), licence_id=open_usd)
    w.earn(dan, 12_00, at=utc(2026, 10, 11), licence_id=open_usd)

    report = w.settle(OCT, now=AFTER_OCT)
    assert report.run.status == "completed"
    items = w.items(OCT)
    assert {k: (i.status, i.payable, i.reserve, i.amount) for k, i in items.items()} == {
        (ava, "USD"): ("paid", 70_00, 20_00, 50_00),
        (ava, "EUR"): ("paid", 15_00, 0, 15_00),
        (ava, "JPY"): ("below_minimum", 500, 0, 500),
        (ben, "USD"): ("below_minimum", 8_00, 0, 8_00),
        (chloe, "USD"): ("held", 30_00, 0, 30_00),
        (dan, "USD"): ("held", 12_00, 0, 12_00),
    }
    assert "onboarding is not finished" in items[(chloe, "USD")].hold_reason
    assert "No Stripe account" in items[(dan, "USD")].hold_reason
    assert "minimum payout of 10.00 USD" in items[(ben, "USD")].hold_reason
    assert (w.payable(ava), w.reserve(ava), w.payable(ava, "EUR"), w.payable(ava, "JPY")) == (5_00, 20_00, 0, 500)
    assert (w.payable(ben), w.payable(chloe), w.payable(dan)) == (8_00, 30_00, 12_00)
    assert w.balance("platform:stripe:USD") == -50_00 and w.balance("platform:stripe:EUR") == -15_00
    w.assert_one_transfer_per_paid_item(OCT)
    assert (f"settlement:2026-10:reserve:{ava}:USD", "reserve.hold") in w.entries("reserve.hold")
    summary = report.by_currency()
    assert (
        summary["USD"].paid,
        summary["USD"].paid_amount,
        summary["USD"].held,
        summary["USD"].held_amount,
        summary["USD"].below_minimum_amount,
    ) == (1, 50_00, 2, 42_00, 8_00)

    # November: the reserve is released, carried-forward amounts reach the minimum, chloe onboarded
    w.earn(ben, 5_00, at=utc(2026, 11, 3), licence_id=open_usd)
    w.earn(ava, 600, "JPY", at=utc(2026, 11, 4), licence_id=jpy)
    with provided(Database, w.app).unit_of_work() as uow:
        account = uow.session.exec(select(ConnectAccount).where(ConnectAccount.creator_id == chloe)).one()
        w.emulator.complete_onboarding(account.stripe_account_id)
        account.payouts_enabled = account.details_submitted = True
        uow.commit()
    report = w.settle(NOV, now=AFTER_NOV)
    assert report.run.status == "completed"
    assert {k: (i.status, i.payable, i.reserve, i.amount) for k, i in w.items(NOV).items()} == {
        (ava, "USD"): ("paid", 25_00, 0, 25_00),
        (ava, "JPY"): ("paid", 1100, 0, 1100),
        (ben, "USD"): ("paid", 13_00, 0, 13_00),
        (chloe, "USD"): ("paid", 30_00, 0, 30_00),
        (dan, "USD"): ("held", 12_00, 0, 12_00),
    }
    assert (w.payable(ava), w.reserve(ava), w.payable(ben), w.payable(chloe), w.payable(dan)) == (0, 0, 0, 0, 12_00)
    assert w.balance("platform:stripe:USD") == -(50_00 + 25_00 + 13_00 + 30_00)
    w.assert_one_transfer_per_paid_item(NOV)
    assert len(w.transfers()) == 2 + 4
    w.assert_books_verify()


def test_running_a_done_period_again_changes_nothing(world):
    w = world
    w.fund()
    ava = w.creator("ava")
    w.earn(ava, 40_00, at=utc(2026, 10, 5), licence_id=w.licence(holdback_days=0))
    first = w.settle(OCT)
    requests = len(w.emulator.requests())
    again = w.settle(OCT, now=utc(2026, 11, 2))
    assert again.run == first.run and again.items == first.items
    assert len(w.emulator.requests()) == requests
    assert w.payable(ava) == 0 and len(w.transfers()) == 1


def test_refusals(world):
    w = world
    w.fund()
    ava = w.creator("ava")
    w.earn(ava, 40_00, at=utc(2026, 10, 5), licence_id=w.licence(holdback_days=0))
    with pytest.raises(SettlementRefused, match="not over yet"):
        w.settle(OCT, now=utc(2026, 10, 31, 23, 59))
    w.settle(NOV, now=AFTER_NOV)
    with pytest.raises(SettlementRefused, match="2026-11 is already settled"):
        w.settle(OCT, now=AFTER_NOV)
    assert w.run_row(OCT) is None and w.payable(ava) == 0


def test_a_period_has_one_run_row(world):
    w = world
    w.settle(OCT)
    with pytest.raises(Exception, match=r"(?i)unique"):
        with provided(Database, w.app).engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO settlement_run (period, period_start, period_end, transfer_group, status, "
                    "created_by, created_at) VALUES ('2026-10', '2026-10-01', '2026-11-01', 'other', "
                    "'planned', 'x', '2026-11-01')"
                )
            )
