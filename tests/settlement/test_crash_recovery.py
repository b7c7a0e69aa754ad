"""Killed at any checkpoint (SIGKILL, in a process of its own: a fork) and started again, a run
pays every creator exactly once: one Stripe transfer per payout item, one payout
entry per item, balances to the cent, and the ledger verifies.  SQLite and PostgreSQL.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest

from app.db import Database
from app.kit.registry import provided

from .crash_runner import run_killed
from .world import AFTER_OCT, OCT

# (step, occurrence): every checkpoint, for the first item and for one in the middle of the run
KILL_POINTS = [
    ("run.locked", 1),
    ("run.planned", 1),
    ("run.paying", 1),
    ("item.posted", 1),
    ("item.posted", 2),
    ("item.transferred", 1),
    ("item.transferred", 3),
    ("item.paid", 2),
    ("run.finished", 1),
]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def run_in_child(
    w, tmp_path: Path, kill_at: str | None = None, nth: int = 1, workers: int = 1, status_file: Path | None = None
) -> int:
    return run_killed(
        provided(Database, w.app).url,
        w.pay.running.url,
        OCT.name,
        AFTER_OCT,
        str(tmp_path / "crash-instance"),
        workers=workers,
        kill_at=kill_at,
        nth=nth,
        status_file=str(status_file) if status_file else None,
    )


def build(w) -> dict[str, int]:
    for currency in ("usd", "eur"):
        w.fund(10_000_000, currency)
    usd, eur = w.licence(holdback_days=0), w.licence(holdback_days=0, currency="EUR")
    people = {name: w.creator(name) for name in ("ava", "ben", "chloe")}
    people["dan"] = w.creator("dan", onboard=False)
    w.earn(people["ava"], 120_00, at=utc(2026, 10, 3), licence_id=usd)
    w.earn(people["ava"], 45_50, "EUR", at=utc(2026, 10, 4), licence_id=eur)
    w.earn(people["ben"], 33_33, at=utc(2026, 10, 5), licence_id=usd)
    w.earn(people["chloe"], 10_00, at=utc(2026, 10, 6), licence_id=usd)
    w.earn(people["chloe"], 9_99, "EUR", at=utc(2026, 10, 6), licence_id=eur)  # below minimum
    w.earn(people["dan"], 50_00, at=utc(2026, 10, 7), licence_id=usd)  # held
    return people


def assert_settled_once(w, people) -> None:
    run = w.run_row(OCT)
    assert run.status == "completed" and (run.paid_count, run.held_count, run.below_minimum_count) == (4, 1, 1)
    items = w.items(OCT)
    assert {k: i.status for k, i in items.items()} == {
        (people["ava"], "USD"): "paid",
        (people["ava"], "EUR"): "paid",
        (people["ben"], "USD"): "paid",
        (people["chloe"], "USD"): "paid",
        (people["chloe"], "EUR"): "below_minimum",
        (people["dan"], "USD"): "held",
    }
    assert len(w.transfers()) == 4
    w.assert_one_transfer_per_paid_item(OCT)
    assert [w.payable(people[n]) for n in ("ava", "ben", "chloe", "dan")] == [0, 0, 0, 50_00]
    assert (w.payable(people["ava"], "EUR"), w.payable(people["chloe"], "EUR")) == (0, 9_99)
    assert w.balance("platform:stripe:USD") == -(120_00 + 33_33 + 10_00)
    assert w.balance("platform:stripe:EUR") == -45_50
    assert len(w.entries("payout.transfer")) == 4 and w.entries("reversal") == []
    w.assert_books_verify()


@pytest.mark.parametrize("step,nth", KILL_POINTS, ids=[f"{s}#{n}" for s, n in KILL_POINTS])
def test_killed_at_a_checkpoint_then_started_again(world_any_db, tmp_path, step, nth):
    w = world_any_db
    people = build(w)
    assert run_in_child(w, tmp_path, kill_at=step, nth=nth) == -signal.SIGKILL
    w.assert_books_verify()
    assert len(w.transfers()) <= 4
    w.settle(OCT, now=AFTER_OCT)  # started again at once: the dead process's lock is gone
    assert_settled_once(w, people)


def test_killed_again_and_again_with_several_workers(world, tmp_path):
    """Four workers, killed at successive checkpoints in turn, then a clean run."""
    w = world
    people = build(w)
    for step, nth in [("item.posted", 2), ("item.transferred", 2), ("item.paid", 1)]:
        assert run_in_child(w, tmp_path, kill_at=step, nth=nth, workers=4) in (-signal.SIGKILL, 0)
    status = tmp_path / "status"
    assert run_in_child(w, tmp_path, workers=4, status_file=status) == 0
    assert status.read_text() == "completed"
    assert_settled_once(w, people)
