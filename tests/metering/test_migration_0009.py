"""Migration 0009 moves receipts onto their usage rows and back, losing nothing, on
SQLite and PostgreSQL; afterwards a use cannot name a brand other than its licence's."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.db import Database
from app.kit.registry import provided
from app.metering import usage
from app.metering.receipts import KeyStore
from app.metering.schemas import UsageEventIn
from app.migrate import downgrade, upgrade
from app.people.actors import actor_for
from app.people.models import User
from app.seed import seed_demo
from ledger import Ledger
from tests.conftest import make_test_app


def _report(app, clock) -> None:
    events = [
        UsageEventIn(
            licence_id=3,
            event_id=f"m-{i}",
            kind="render",
            quantity=1,
            occurred_at=clock(),
            territory="GB",
            media="web",
            content_sha256="ab" * 32,
        )
        for i in range(3)
    ]
    with provided(Database, app).unit_of_work() as uow:
        user = uow.session.exec(select(User).where(User.email == "eli@lumen.example")).one()
        usage.report_usage(
            uow, actor_for(uow, user), clock(), events, ledger=provided(Ledger, app), keys=provided(KeyStore, app)
        )
        uow.commit()


def test_receipts_move_down_and_back_up_unchanged(database_url, tmp_path, clock):
    app = make_test_app(database_url, tmp_path, clock, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    seed_demo(app, now=clock())
    clock.advance(hours=2)
    _report(app, clock)
    engine = provided(Database, app).engine
    with engine.connect() as conn:
        before = conn.execute(
            text("SELECT id, receipt_id, receipt_key_id, receipt_token FROM mt_usage_event ORDER BY id")
        ).all()
    assert len(before) == 3
    provided(Database, app).dispose()

    downgrade(database_url, "0008_accounting")
    with engine.connect() as conn:
        moved = conn.execute(
            text("SELECT usage_event_id, id, key_id, token FROM mt_receipt ORDER BY usage_event_id")
        ).all()
    assert [tuple(r) for r in moved] == [tuple(r) for r in before]
    engine.dispose()

    upgrade(database_url)
    with engine.connect() as conn:
        after = conn.execute(
            text("SELECT id, receipt_id, receipt_key_id, receipt_token FROM mt_usage_event ORDER BY id")
        ).all()
        assert [tuple(r) for r in after] == [tuple(r) for r in before]
        assert "mt_receipt" not in {
            name
            for (name,) in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    if engine.dialect.name == "postgresql"
                    else "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            )
        }
    # licence 3 is Lumen's (organisation 2): a row naming organisation 1 is refused by the database
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mt_usage_event (brand_org_id, event_id, licence_id, reported_by, kind, quantity,"
                " occurred_at,"
                " territory, media, price_minor, currency, recorded_at, receipt_id, receipt_key_id, receipt_token) "
                "VALUES (1, 'forged', 3, 1, 'render', 1, :t, 'GB', 'web', 0, 'EUR', :t, 'r', 'k', 't')"
            ),
            {"t": clock()},
        )
    engine.dispose()
