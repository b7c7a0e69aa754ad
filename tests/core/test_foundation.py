"""The app skeleton: health, problem+json errors, configuration, the scheduler wiring."""

from __future__ import annotations

from datetime import UTC

import pytest

from app.clock import Clock
from app.config import ConfigError, from_environment, normalise_database_url
from app.db import Database
from app.kit.registry import provided
from ledger import Ledger


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_an_unreachable_database_as_503(tmp_path, clock):
    from tests.conftest import make_test_app

    app = make_test_app(f"sqlite:///{tmp_path}/missing-dir/nope/cameo.db", tmp_path, clock)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Service unavailable"


def test_unknown_api_paths_are_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["title"] == "Not Found"


def test_secret_key_is_generated_once_and_kept_in_development(tmp_path):
    first = from_environment({}, tmp_path)["SECRET_KEY"]
    second = from_environment({}, tmp_path)["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        from_environment({"CAMEO_ENV": "production"}, tmp_path)
    assert not (tmp_path / "secret_key").exists()
    assert from_environment({"CAMEO_ENV": "production", "SECRET_KEY": "s3cret"}, tmp_path)["SECRET_KEY"] == "s3cret"


@pytest.mark.parametrize(
    "environ,message",
    [
        ({"CAMEO_ENV": "staging"}, "CAMEO_ENV must be one of"),
        ({"COMMISSION_BPS": "20%"}, "COMMISSION_BPS must be an integer"),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        from_environment(environ, tmp_path)


def test_database_url_defaults_to_sqlite_under_instance_and_normalises_postgres(tmp_path):
    assert from_environment({}, tmp_path)["DATABASE_URL"] == f"sqlite:///{tmp_path / 'cameo.db'}"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_scheduler_jobs_persist_coalesce_and_have_a_misfire_grace_time(app):
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import text

    from app.scheduler import build_scheduler

    scheduler = build_scheduler(app, scheduler_class=BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        seal = jobs["ledger-seal"]
        assert seal.coalesce is True and seal.misfire_grace_time == 300 and seal.max_instances == 1
        with provided(Database, app).engine.connect() as conn:  # the job store is the product's own database
            assert "ledger-seal" in conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
    finally:
        scheduler.shutdown(wait=False)


def test_seal_job_seals_committed_entries(app):
    from datetime import datetime, timezone

    from app.books import chart, recipes
    from app.books.recipes import Owner
    from app.scheduler import seal_job
    from ledger.verify import verify

    draft = recipes.licence_sale(
        key="s",
        effective_at=datetime(2026, 10, 1, tzinfo=UTC),
        currency="USD",
        gross=1000,
        stripe_fee=59,
        commission_bps=2000,
        owners=[Owner(1, 1)],
    )
    with provided(Database, app).unit_of_work() as uow:
        chart.open_accounts_for(provided(Ledger, app), uow.session, [draft])
        provided(Ledger, app).post(uow.session, draft, now=provided(Clock, app)())
        uow.commit()
    from app.scheduler import build_scheduler

    build_scheduler(app)  # binds the job functions to this app
    seal_job()
    with provided(Database, app).engine.connect() as conn:
        report = verify(conn)
    assert report.ok and report.unsealed == 0 and report.sealed_through == 1


def test_seed_is_idempotent_and_prints_the_demo_logins(runner, app):
    from sqlalchemy import text

    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "house accounts for USD" in first.output
    with provided(Database, app).engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("ledger_account", "mk_user")]
    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0, again.output
    with provided(Database, app).engine.connect() as conn:
        assert [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("ledger_account", "mk_user")
        ] == counts
    assert counts[0] == 12


def test_oversized_request_bodies_are_refused_before_reading(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        "/login", data={"email": "x" * 4096, "password": "y"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_settings_have_their_documented_defaults_and_the_environment_overrides_them(tmp_path):
    settings = from_environment({"RECORDING_MAX_BYTES": "1000", "RATELIMIT_API": "5 per minute"}, tmp_path)
    assert settings["RECORDING_MAX_BYTES"] == 1000 and settings["RATELIMIT_API"] == "5 per minute"
    defaults = from_environment({}, tmp_path)
    assert defaults["PREVIEW_MAX_BYTES"] == 5 * 1024 * 1024 and defaults["RECORDING_MAX_BYTES"] == 50 * 1024 * 1024
    assert (defaults["RATELIMIT_LOGIN"], defaults["RATELIMIT_API"]) == ("10 per minute", "600 per minute")
    assert defaults["RECEIPT_KEYS_DIR"] == str(tmp_path / "receipt_keys")
