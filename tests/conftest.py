"""Shared fixtures: migrated databases on SQLite and PostgreSQL, the app, a clock.

Databases are migrated once per session into a template (a SQLite file, a
PostgreSQL template database) and cloned for every test, so each test has its own
real, migrated database and can commit freely — including from many threads.
PostgreSQL comes from ``TEST_DATABASE_URL``; each run creates and drops databases
of its own, so runs never collide.  Without PostgreSQL the postgres tests skip
locally but *fail* under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.db import Database
from app.kit.registry import provided
from app.migrate import upgrade
from tests.ledger.book import Book

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# A test that asks for one of these (directly or through another fixture) runs against a
# real migrated database: it is an ``integration`` test; every other test is a ``unit`` test.
DATABASE_FIXTURES = frozenset({"sqlite_template", "pg_template", "database_url", "sqlite_url", "pg_url"})


def pytest_collection_modifyitems(items):
    """Tests are grouped by feature in folders; their kind is a marker (``-m unit``)."""
    for item in items:
        uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.integration if uses_database else pytest.mark.unit)


IN_CI = os.environ.get("CI") == "true"


class FrozenClock:
    """The time, passed in: starts at a fixed instant and moves only when told."""

    def __init__(self, start: datetime = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return self.now


def _pg_conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_admin():
    import psycopg

    return psycopg.connect(_pg_conninfo(PG_URL), autocommit=True, connect_timeout=5)


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL suite is mandatory under CI=true: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template():
    try:
        admin = _pg_admin()
    except Exception as exc:
        _unavailable(str(exc).splitlines()[0])
    name = f"cameo_tpl_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            upgrade(str(make_url(PG_URL).set(database=name)))
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_clone(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "cameo.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    return _sqlite_clone(sqlite_template, tmp_path)


@pytest.fixture
def pg_url(request):
    template = request.getfixturevalue("pg_template")
    name = f"cameo_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    try:
        yield str(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """The same test on both databases."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def make_test_app(database_url: str, tmp_path: Path, clock: FrozenClock, **extra):
    config = {
        "TESTING": True,
        "CAMEO_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "CLOCK": clock,
        "STRIPE_SECRET_KEY": "",
        "STRIPE_API_BASE": "",
        "STRIPE_WEBHOOK_SECRET": "",
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture
def app(sqlite_url, tmp_path, clock):
    """The app on a fresh migrated SQLite database (API and web tests)."""
    application = make_test_app(sqlite_url, tmp_path, clock)
    yield application
    provided(Database, application).dispose()


@pytest.fixture
def app_any_db(database_url, tmp_path, clock):
    """The app on SQLite and on PostgreSQL (integration tests)."""
    application = make_test_app(database_url, tmp_path, clock)
    yield application
    provided(Database, application).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def book(database_url):
    """A ledger over a fresh migrated database (both databases), for the engine's tests."""
    b = Book(database_url)
    yield b
    b.engine.dispose()
