"""``cameo settle`` (dry run, bad input, the summary), the staff pages, the scheduled job and the settings."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app import scheduler
from app.config import ConfigError, from_environment
from app.db import Database
from app.kit.registry import provided
from app.settlement.planning import period_before
from tests.conftest import make_test_app

from .test_reversals_and_failures import account_of
from .world import AFTER_OCT, OCT

PASSWORD = json.loads((Path(__file__).resolve().parents[2] / "seed_data" / "demo.json").read_text())["password"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fingerprint(app) -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    engine = provided(Database, app).engine
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table}"')))
            digest.update(f"{table}:{len(rows)}:{''.join(rows)}".encode())
    return digest.hexdigest()


def some_earnings(w) -> dict[str, int]:
    w.fund()
    licence, reserved = w.licence(holdback_days=0), w.licence(holdback_days=30)
    people = {"ava": w.creator("ava"), "ben": w.creator("ben"), "dan": w.creator("dan", connect=False)}
    w.earn(people["ava"], 80_00, at=utc(2026, 10, 2), licence_id=licence)
    w.earn(people["ava"], 10_00, at=utc(2026, 10, 30), licence_id=reserved)
    w.earn(people["ben"], 3_00, at=utc(2026, 10, 2), licence_id=licence)
    w.earn(people["dan"], 25_00, at=utc(2026, 10, 2), licence_id=licence)
    return people


def test_a_dry_run_changes_nothing_and_calls_nobody(world_any_db):
    w = world_any_db
    people = some_earnings(w)
    before, requests = fingerprint(w.app), len(w.emulator.requests())
    result = w.cli("--period", OCT.name, "--dry-run")
    assert result.exit_code == 0, result.output
    assert fingerprint(w.app) == before and len(w.emulator.requests()) == requests
    assert "dry run: nothing was changed" in result.output
    assert re.search(r"USD\s+0\s+0\.00\s+1\s+25\.00\s+1\s+3\.00\s+0\s+0\.00\s+1\s+10\.00", result.output), result.output
    assert f"held       creator {people['dan']} 25.00 USD — No Stripe account" in result.output
    assert f"would pay  creator {people['ava']} 80.00 USD" in result.output

    result = w.cli("--period", OCT.name)
    assert result.exit_code == 0, result.output
    assert re.search(r"USD\s+1\s+80\.00\s+1\s+25\.00\s+1\s+3\.00\s+0\s+0\.00\s+0\s+10\.00", result.output), (
        result.output
    )
    assert (w.payable(people["ava"]), w.reserve(people["ava"])) == (0, 10_00)
    before = fingerprint(w.app)
    result = w.cli("--period", OCT.name, "--dry-run")  # a planned period: shown, not planned again
    assert result.exit_code == 0 and "already planned (completed)" in result.output
    assert fingerprint(w.app) == before


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["--period", "2026-13"], 2, "write a month as YYYY-MM"),
        (["--period", "october"], 2, "write a month as YYYY-MM"),
        ([], 2, "Missing option '--period'"),
        (["--period", "2026-10", "--dry-run", "--retry-failed"], 2, "cannot be combined"),
        (["--period", "2026-11"], 1, "2026-11 is not over yet"),
        (["--period", "2026-10", "--retry-failed"], 1, "2026-10 has no settlement run to retry"),
    ],
)
def test_bad_requests_exit_non_zero_and_change_nothing(world, args, code, message):
    some_earnings(world)
    before = fingerprint(world.app)
    result = world.cli(*args)
    assert result.exit_code == code and message in result.output, result.output
    assert fingerprint(world.app) == before


def test_without_payments_configured_a_run_is_refused_but_a_dry_run_works(tmp_path, sqlite_url, clock):
    app = make_test_app(sqlite_url, tmp_path, clock)
    clock.set(AFTER_OCT)
    result = app.test_cli_runner().invoke(args=["settle", "--period", "2026-10"])
    assert result.exit_code == 1 and "not configured" in result.output
    result = app.test_cli_runner().invoke(args=["settle", "--period", "2026-10", "--dry-run"])
    assert result.exit_code == 0 and "nothing to settle" in result.output
    provided(Database, app).dispose()


# -- the staff pages ------------------------------------------------------------------------------


def login(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def csrf_from(html: str) -> str:
    return re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)[-1]


def test_staff_pages_show_runs_and_items_and_admins_retry_failed_items(world):
    w = world
    people = some_earnings(w)
    w.emulator.inject_fault("error_500", method="POST", path_prefix="/v1/transfers", count=1000)
    w.settle(OCT)  # ava's item stays posted: Stripe was down
    w.emulator.clear_faults()
    w.settle(OCT)
    client = w.app.test_client()
    assert client.get("/staff/settlements").status_code == 302  # log in first
    login(client, "ava@creators.example")
    assert client.get("/staff/settlements").status_code == 403

    login(client, "fay@books.example")  # accountant: reads, cannot retry
    runs = client.get("/staff/settlements").get_data(as_text=True)
    assert "2026-10" in runs and "completed" in runs
    page = client.get("/staff/settlements/2026-10").get_data(as_text=True)
    item = w.items(OCT)[(people["ava"], "USD")]
    assert item.transfer_id in page and "80.00 USD" in page and "No Stripe account is connected yet" in page
    assert "Retry" not in page
    assert client.get("/staff/settlements/2026-13").status_code == 404
    assert client.get("/staff/settlements/2025-01").status_code == 404
    assert "Unknown status" in client.get("/staff/settlements/2026-10?status=nope").get_data(as_text=True)
    held = client.get("/staff/settlements/2026-10?status=held").get_data(as_text=True)
    assert "No Stripe account" in held and item.transfer_id not in held
    assert client.post("/staff/settlements/2026-10/retry", data={"csrf_token": csrf_from(page)}).status_code == 403


def test_admin_retry_button_pays_failed_items(world):
    w = world
    people = {"ava": w.creator("ava")}
    w.earn(people["ava"], 80_00, at=utc(2026, 10, 2), licence_id=w.licence(holdback_days=0))
    w.fund()
    w.emulator.restrict_account(account_of(w, people["ava"]))
    w.settle(OCT)  # her account is restricted: Stripe refuses the transfer
    assert w.items(OCT)[(people["ava"], "USD")].status == "failed"
    client = w.app.test_client()
    login(client, "gus@cameo.example")
    page = client.get("/staff/settlements/2026-10").get_data(as_text=True)
    assert "Retry 1 failed item" in page and "PayoutDestinationRefused" in page
    assert client.post("/staff/settlements/2026-10/retry").status_code == 400  # no CSRF token
    assert w.items(OCT)[(people["ava"], "USD")].status == "failed"
    w.emulator.complete_onboarding(account_of(w, people["ava"]))
    response = client.post("/staff/settlements/2026-10/retry", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert "Retried: 1 paid, 0 still failed" in client.get(response.location).get_data(as_text=True)
    assert w.items(OCT)[(people["ava"], "USD")].status == "paid" and w.payable(people["ava"]) == 0
    w.assert_one_transfer_per_paid_item(OCT)
    w.assert_books_verify()


# -- the schedule ---------------------------------------------------------------------------------


def test_the_monthly_job_settles_the_previous_month_once(world):
    w = world
    people = some_earnings(w)
    assert period_before(utc(2026, 11, 1, 6)) == OCT and period_before(utc(2027, 1, 15)).name == "2026-12"
    scheduler._context["app"] = w.app
    try:
        w.at(AFTER_OCT)
        scheduler.settlement_job()
        assert w.run_row(OCT).status == "completed" and w.run_row(OCT).created_by == "scheduler"
        requests = len(w.emulator.requests())
        w.at(utc(2026, 11, 1, 7))
        scheduler.settlement_job()  # the misfire/coalesced run finds it done
        assert len(w.emulator.requests()) == requests
    finally:
        scheduler._context.pop("app", None)
    assert w.payable(people["ava"]) == 0


def test_the_job_is_registered_with_the_configured_cron(tmp_path, sqlite_url, clock):
    from apscheduler.schedulers.background import BackgroundScheduler

    app = make_test_app(sqlite_url, tmp_path, clock, SETTLEMENT_SCHEDULE="30 2 3 * *")
    sched = scheduler.build_scheduler(app, scheduler_class=BackgroundScheduler)
    sched.start(paused=True)
    try:
        job = sched.get_job("settlement-monthly")
        assert job.coalesce is True and job.misfire_grace_time is None  # a due settlement runs however late
        assert job.trigger.get_next_fire_time(None, utc(2026, 11, 1)) == utc(2026, 11, 3, 2, 30)
    finally:
        sched.shutdown(wait=False)
        provided(Database, app).dispose()


@pytest.mark.parametrize(
    "environ,message",
    [
        ({"SETTLEMENT_SCHEDULE": "monthly"}, "SETTLEMENT_SCHEDULE must be a crontab expression"),
        ({"SETTLEMENT_MIN_PAYOUT": "USD:10"}, "SETTLEMENT_MIN_PAYOUT must look like"),
        ({"SETTLEMENT_MIN_PAYOUT": "XXX=10"}, "cannot read 'XXX=10'"),
        ({"SETTLEMENT_MIN_PAYOUT": "USD=-5"}, "SETTLEMENT_MIN_PAYOUT"),
        ({"SETTLEMENT_WORKERS": "0"}, "SETTLEMENT_WORKERS"),
    ],
)
def test_bad_settlement_settings_are_clear_startup_errors(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        from_environment({"SECRET_KEY": "x", **environ}, tmp_path)


def test_a_cron_the_scheduler_cannot_read_is_a_startup_error(tmp_path, sqlite_url, clock):
    app = make_test_app(sqlite_url, tmp_path, clock, SETTLEMENT_SCHEDULE="0 6 32 * *")
    with pytest.raises(ConfigError, match="not a valid crontab"):
        scheduler.build_scheduler(app)
    provided(Database, app).dispose()


def test_settlement_settings_defaults_and_overrides(tmp_path):
    config = from_environment({"SECRET_KEY": "x", "SETTLEMENT_MIN_PAYOUT": "usd=2500, KWD=5000"}, tmp_path)
    assert config["SETTLEMENT_MIN_PAYOUT"] == {"USD": 2500, "EUR": 1000, "GBP": 1000, "JPY": 1000, "KWD": 5000}
    assert config["SETTLEMENT_SCHEDULE"] == "0 6 1 * *"
    assert (config["SETTLEMENT_WORKERS"], config["SETTLEMENT_STRIPE_WRITES_PER_SECOND"]) == (4, 90)
