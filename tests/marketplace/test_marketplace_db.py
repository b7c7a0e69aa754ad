"""The marketplace on SQLite and PostgreSQL: seeding is idempotent, published
templates and the audit log are protected by the database itself, and the
scheduler's expiry works on both."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.clock import Clock
from app.db import Database
from app.kit.registry import provided
from app.marketplace import licences
from app.seed import seed_demo

FAST = "pbkdf2:sha256:1000"


@pytest.fixture
def seeded(app_any_db):
    app_any_db.config["PASSWORD_HASH_METHOD"] = FAST
    seed_demo(app_any_db, now=provided(Clock, app_any_db)())
    return app_any_db


def counts(app) -> dict[str, int]:
    with provided(Database, app).engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in (
                "mk_user",
                "mk_organisation",
                "mk_cameo",
                "mk_consent",
                "mk_offer",
                "mk_licence",
                "mk_contract_template",
                "mk_audit_event",
            )
        }


def test_seed_is_idempotent(seeded):
    first = counts(seeded)
    assert first["mk_contract_template"] == 4 and first["mk_licence"] == 3 and first["mk_user"] == 7
    seed_demo(seeded, now=provided(Clock, seeded)())
    assert counts(seeded) == first


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE mk_contract_template SET body = 'changed' WHERE id = 1",
        "DELETE FROM mk_contract_template WHERE id = 1",
        "UPDATE mk_audit_event SET action = 'forged' WHERE id = 1",
        "DELETE FROM mk_audit_event",
    ],
)
def test_database_refuses_rewriting_history(seeded, statement):
    engine = provided(Database, seeded).engine
    with pytest.raises(DBAPIError, match=r"immutable|append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))


def test_expire_due_and_money_columns(seeded, clock):
    db = provided(Database, seeded)
    with db.unit_of_work() as uow:
        assert licences.expire_due(uow, clock()) == []
        assert sorted(licences.expire_due(uow, clock.advance(days=91))) == [1, 3]
        uow.commit()
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status, upfront_fee_minor, currency, brand_org_id, owners FROM mk_licence ORDER BY id")
        ).all()
    assert [(r.id, r.status) for r in rows] == [(1, "expired"), (2, "requested"), (3, "expired")]
    assert rows[0].upfront_fee_minor == 50000 and rows[0].currency == "USD" and rows[0].brand_org_id == 1
