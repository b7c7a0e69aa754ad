"""POST /api/v1/usage stays cheap: statements and transactions per request (issue #5's
benchmark), the token's throttled last-use stamp, and answers that depend on what was
recorded before — on SQLite and PostgreSQL.

The ceilings count every statement SQLAlchemy sends (SQLite's ``BEGIN IMMEDIATE``
included) and every statement ``ledger.sql.on_driver`` runs on psycopg itself, and
every COMMIT.  They are
ceilings, not timings: a change that adds a
round trip to the hot path fails here instead of quietly halving the throughput.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timezone

import psycopg
import pytest
from sqlalchemy import event, text
from sqlmodel import select

from app.db import Database
from app.kit.registry import provided
from app.marketplace import licences
from app.people import accounts
from app.people.actors import actor_for
from app.people.models import User
from app.seed import seed_demo
from tests.conftest import make_test_app

WHEN = "2026-10-16T09:30:00Z"
# PostgreSQL: token, licence, usage rows with their receipts, the entry with its postings and balances.
# SQLite adds BEGIN IMMEDIATE, the closed-period check, a separate postings INSERT and
# one UPDATE per balance row (4 here).
MAX_STATEMENTS = {"postgresql": 4, "sqlite": 11}
# A 300-event batch of one licence: the same (one entry holds the 300 uses); SQLite
# pages its multi-row usage INSERT.
MAX_BATCH_STATEMENTS = {"postgresql": 4, "sqlite": 12}


@pytest.fixture
def brand(database_url, tmp_path, clock):
    """The demo world on either database, Lumen Studios' (eli's) API token and a client."""
    app = make_test_app(
        database_url, tmp_path, clock, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", RATELIMIT_ENABLED=False
    )
    seed_demo(app, now=clock())
    with app.app_context(), provided(Database).unit_of_work() as uow:
        user = uow.session.exec(select(User).where(User.email == "eli@lumen.example")).one()
        token = accounts.issue_token(uow, actor_for(uow, user), clock(), name="bench")[1]
        uow.commit()
    clock.advance(days=1)
    yield app, {"Authorization": f"Bearer {token}"}
    provided(Database, app).dispose()


def ev(event_id: str, **over) -> dict:
    return {
        "licence_id": 3,
        "event_id": event_id,
        "kind": "render",
        "quantity": 1,
        "occurred_at": WHEN,
        "territory": "GB",
        "media": "web",
        "content_sha256": "ab" * 32,
    } | over


@contextmanager
def counting(app):
    seen = {"statements": [], "commits": 0}
    engine = provided(Database, app).engine

    def on_execute(_conn, _cursor, statement, *_):
        seen["statements"].append(statement)

    def on_commit(_conn):
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    # the hot statements that ledger.sql.on_driver runs on psycopg itself, past SQLAlchemy's events
    driver_execute = psycopg.Connection.execute

    def on_driver_execute(self, query, *args, **kwargs):
        seen["statements"].append(query)
        return driver_execute(self, query, *args, **kwargs)

    psycopg.Connection.execute = on_driver_execute
    try:
        yield seen
    finally:
        psycopg.Connection.execute = driver_execute
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def scalar(app, sql: str, **params):
    with provided(Database, app).engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_single_event_is_one_transaction_of_few_statements(brand):
    app, auth = brand
    client = app.test_client()
    for warm_up in ("opens-accounts", "caches-accounts"):
        assert client.post("/api/v1/usage", json=ev(warm_up), headers=auth).status_code == 200
    with counting(app) as seen:
        r = client.post("/api/v1/usage", json=ev("counted"), headers=auth)
    assert r.status_code == 200 and r.get_json()["accepted"] == 1
    dialect = provided(Database, app).engine.dialect.name
    assert len(seen["statements"]) <= MAX_STATEMENTS[dialect], seen["statements"]
    assert seen["commits"] == 1
    assert scalar(app, "SELECT count(*) FROM ledger_entry WHERE idempotency_key = 'usage:2:counted'") == 1


def test_a_batch_costs_the_same_statements_as_one_event(brand):
    app, auth = brand
    client = app.test_client()
    for warm_up in ("opens-accounts", "caches-accounts"):
        client.post("/api/v1/usage", json=ev(warm_up), headers=auth)
    with counting(app) as seen:
        r = client.post("/api/v1/usage", json={"events": [ev(f"b-{i}") for i in range(300)]}, headers=auth)
    assert r.get_json()["accepted"] == 300
    dialect = provided(Database, app).engine.dialect.name
    assert len(seen["statements"]) <= MAX_BATCH_STATEMENTS[dialect], len(seen["statements"])
    assert seen["commits"] == 1
    # the two warm-up uses are an entry each, the batch's 300 one entry: 4 postings each
    assert (
        scalar(
            app,
            "SELECT count(*) FROM ledger_posting p JOIN ledger_entry e ON e.seq = p.entry_seq "
            "WHERE e.kind = 'usage.royalty'",
        )
        == 3 * 4
    )


def test_the_token_use_is_stamped_at_most_once_a_minute_in_the_same_transaction(brand, clock):
    app, auth = brand
    client = app.test_client()
    last_used = "SELECT last_used_at FROM mk_api_token WHERE name = 'bench'"
    assert scalar(app, last_used) is None
    first = clock()
    client.post("/api/v1/usage", json=ev("t-1"), headers=auth)
    stamped = scalar(app, last_used)
    assert stamped is not None

    def as_aware(value):  # SQLite gives the text layout back through a raw query
        value = datetime.fromisoformat(str(value))
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    assert as_aware(stamped) == first
    clock.advance(seconds=30)
    with counting(app) as seen:
        client.post("/api/v1/usage", json=ev("t-2"), headers=auth)
    assert not any(s.lstrip().upper().startswith("UPDATE MK_API_TOKEN") for s in seen["statements"])
    assert as_aware(scalar(app, last_used)) == first
    clock.advance(seconds=31)
    with counting(app) as seen:
        client.post("/api/v1/usage", json=ev("t-3"), headers=auth)
    assert seen["commits"] == 1
    assert as_aware(scalar(app, last_used)) == clock()
    # the read endpoints stamp the token too
    clock.advance(minutes=2)
    assert client.get("/api/v1/licences/3/usage", headers=auth).status_code == 200
    assert as_aware(scalar(app, last_used)) == clock()


def test_a_revoked_token_is_refused_and_records_nothing(brand, clock):
    app, auth = brand
    with provided(Database, app).engine.begin() as conn:
        conn.execute(text("UPDATE mk_api_token SET revoked_at = :now WHERE name = 'bench'"), {"now": clock()})
    r = app.test_client().post("/api/v1/usage", json=ev("after-revoke"), headers=auth)
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert scalar(app, "SELECT count(*) FROM mt_usage_event") == 0


def test_a_resend_stays_a_duplicate_when_it_would_now_be_rejected(brand, clock):
    """What was recorded before is looked up for events that would be rejected: the same
    use resent after its licence expired (or in a batch with its own repeat) still gets
    its receipt; the same event id with other content is a conflict, never a duplicate."""
    app, auth = brand
    client = app.test_client()
    first = client.post("/api/v1/usage", json=ev("kept"), headers=auth).get_json()["results"][0]
    clock.advance(days=400)
    with provided(Database, app).unit_of_work() as uow:
        assert licences.expire_due(uow, clock()) == [1, 3]
        uow.commit()
    late = ev("kept", occurred_at="2027-06-01T00:00:00Z")  # the same event id, another use
    r = client.post(
        "/api/v1/usage",
        json={"events": [ev("kept"), late, ev("fresh-late", occurred_at="2027-06-01T00:00:00Z")]},
        headers=auth,
    )
    results = r.get_json()["results"]
    assert [(x["status"], x.get("reason")) for x in results] == [
        ("duplicate", None),
        ("rejected", "event_id_conflict"),
        ("rejected", "licence_not_active"),
    ]
    assert results[0]["receipt"] == first["receipt"] and results[0]["usage_id"] == first["usage_id"]
    assert "receipt" not in results[1]
    assert scalar(app, "SELECT count(*) FROM mt_usage_event") == 1


def test_an_in_batch_repeat_of_an_earlier_event_answers_with_the_earlier_receipt(brand):
    app, auth = brand
    client = app.test_client()
    first = client.post("/api/v1/usage", json=ev("twice"), headers=auth).get_json()["results"][0]
    r = client.post("/api/v1/usage", json={"events": [ev("twice"), ev("twice"), ev("new")]}, headers=auth)
    body = r.get_json()
    assert [x["status"] for x in body["results"]] == ["duplicate", "duplicate", "accepted"]
    assert body["results"][0]["receipt"] == body["results"][1]["receipt"] == first["receipt"]
    assert scalar(app, "SELECT count(*) FROM ledger_entry WHERE kind = 'usage.royalty'") == 2
