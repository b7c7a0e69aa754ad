"""A scheduler restart never skips a month (issue #14.12).

Adding the monthly job again at every start computes its next run from the current
time, so a start after 06:00 on the 1st used to move the run to the next month.  The
scheduler now settles, when it starts, every period that became due while it was not
running (``due_settlements``), oldest first, each once.  No sleeps and no real clock:
the due periods are computed for a given instant, and the catch-up job runs with the
app's frozen clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import scheduler
from app.db import Database
from app.kit.registry import provided
from app.settlement.planning import Period

from .test_cli_pages_and_schedule import some_earnings, utc
from .world import NOV, OCT

DUE = utc(2026, 11, 1, 6)  # the default schedule, 0 6 1 * *: November's first run settles October
MONTHLY = scheduler.settlement_trigger("0 6 1 * *")


@pytest.mark.parametrize("late", [timedelta(seconds=30), timedelta(hours=1), timedelta(days=3)])
def test_a_start_after_the_due_time_settles_the_missed_month(late):
    # nothing settled since September: October is due, whether the start is 30 s, 1 h or 3 days late
    assert scheduler.due_settlements(MONTHLY, DUE + late, Period.parse("2026-09")) == [Period.parse("2026-09"), OCT]


def test_a_start_just_before_the_due_time_has_nothing_new_to_settle():
    assert scheduler.due_settlements(MONTHLY, DUE - timedelta(seconds=1), Period.parse("2026-09")) == [
        Period.parse("2026-09")  # the last run itself, so an interrupted one is resumed (a no-op when done)
    ]


def test_months_missed_while_the_process_was_down_are_settled_oldest_first():
    assert scheduler.due_settlements(MONTHLY, utc(2027, 1, 20), Period.parse("2026-10")) == [
        OCT,
        NOV,
        Period.parse("2026-12"),
    ]


def test_a_fresh_install_settles_only_the_last_due_month():
    assert scheduler.due_settlements(MONTHLY, DUE + timedelta(days=3), None) == [OCT]
    assert scheduler.due_settlements(scheduler.settlement_trigger("30 2 3 * *"), utc(2026, 11, 2), None) == [
        Period.parse("2026-09")  # 3 November 02:30 has not come yet: the last due run was 3 October's
    ]


@pytest.mark.parametrize("late", [timedelta(seconds=30), timedelta(hours=1), timedelta(days=3)])
def test_the_catch_up_job_pays_the_missed_month_once(world, late):
    from apscheduler.schedulers.background import BackgroundScheduler

    w = world
    people = some_earnings(w)
    w.at(DUE + late)  # the process was down at 06:00 on 1 November
    sched = scheduler.build_scheduler(w.app, scheduler_class=BackgroundScheduler)
    scheduler.add_catch_up(sched)  # what ``cameo scheduler`` does at every start
    try:
        catch_up = sched.get_job(scheduler.CATCH_UP_JOB_ID)
        assert catch_up is not None and catch_up.func is scheduler.settlement_catch_up_job
        monthly = sched.get_job(scheduler.SETTLEMENT_JOB_ID)
        assert monthly.misfire_grace_time is None  # however late it is (and coalesced: once)
        catch_up.func()
        assert w.run_row(OCT).status == "completed" and w.run_row(OCT).created_by == "scheduler"
        assert (w.payable(people["ava"]), w.reserve(people["ava"])) == (0, 10_00)  # 80.00 paid; 10.00 held back
        writes = len(w.transfer_writes())
        assert writes == 1  # Ava; Ben's 3.00 is under the minimum payout, Dan has no Stripe account
        scheduler.build_scheduler(w.app, scheduler_class=BackgroundScheduler)
        scheduler.settlement_catch_up_job()  # a second restart: October is done, nothing is paid twice
        assert len(w.transfer_writes()) == writes
    finally:
        scheduler._context.pop("app", None)
    w.assert_one_transfer_per_paid_item(OCT)


def test_a_restart_keeps_the_schedule_in_the_product_database(world):
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import text

    sched = scheduler.build_scheduler(world.app, scheduler_class=BackgroundScheduler)
    sched.start(paused=True)
    try:
        with provided(Database, world.app).engine.connect() as conn:
            stored = set(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        assert {scheduler.SETTLEMENT_JOB_ID, "settlement-awaiting-funds", "licences-expire"} <= stored
    finally:
        sched.shutdown(wait=False)
        scheduler._context.pop("app", None)


def test_the_due_time_is_read_from_the_trigger_not_from_the_clock_of_the_machine():
    fired = scheduler.last_due(MONTHLY, utc(2026, 11, 1, 6, 0, 43))
    assert fired == DUE and fired.tzinfo is not None and fired.utcoffset() == timedelta(0)
    assert scheduler.last_due(MONTHLY, datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC)) == utc(2026, 10, 1, 6)
