"""Usage recording on SQLite and PostgreSQL: a 1,000-event batch in one transaction
balances to the cent and verifies; on PostgreSQL, concurrent resends of one event id
give one row and one ledger entry, and concurrent batches cannot overrun a cap."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.books.recipes import Owner, split
from app.db import Database
from app.kit.registry import provided
from app.metering import usage
from app.metering.receipts import KeyStore
from app.metering.schemas import UsageEventIn
from app.people.actors import actor_for
from app.people.models import User
from app.seed import seed_demo
from ledger import Ledger, chain
from ledger.verify import verify

WHEN = datetime(2026, 10, 16, 9, 30, tzinfo=UTC)


@pytest.fixture
def seeded(app_any_db, clock):
    app_any_db.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    seed_demo(app_any_db, now=clock())
    clock.advance(days=1)
    return app_any_db


def event(event_id: str, licence_id: int = 3, quantity: int = 1) -> UsageEventIn:
    return UsageEventIn(
        licence_id=licence_id,
        event_id=event_id,
        kind="impressions",
        quantity=quantity,
        occurred_at=WHEN,
        territory="GB" if licence_id == 3 else "US",
        media="web" if licence_id == 3 else "social",
        content_sha256="cd" * 32,
    )


def report(app, email: str, events, now):
    with provided(Database, app).unit_of_work() as uow:
        user = uow.session.exec(select(User).where(User.email == email)).one()
        outcomes = usage.report_usage(
            uow, actor_for(uow, user), now, events, ledger=provided(Ledger, app), keys=provided(KeyStore, app)
        )
        uow.commit()
    return outcomes


def scalar(app, sql: str):
    with provided(Database, app).engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def balance(app, code: str) -> int:
    with provided(Database, app).unit_of_work() as uow:
        return provided(Ledger, app).balance(uow.session, code).minor


def test_batch_of_1000_balances_to_the_cent_and_verifies(seeded, clock):
    quantities = [(i * 7919) % 13 + 1 for i in range(1000)]
    outcomes = report(seeded, "eli@lumen.example", [event(f"imp-{i}", 3, q) for i, q in enumerate(quantities)], clock())
    assert [o.status for o in outcomes] == ["accepted"] * 1000
    assert len({o.receipt.id for o in outcomes}) == 1000
    total = 500 * sum(quantities)
    commission = sum(usage_commission(500 * q) for q in quantities)
    assert balance(seeded, "brand:2:receivable:EUR") == total
    assert balance(seeded, "platform:revenue:commission:EUR") == -commission
    ben, chloe = balance(seeded, "creator:2:payable:EUR"), balance(seeded, "creator:3:payable:EUR")
    assert ben + chloe == -(total - commission)
    # each use is split on its own (the largest remainder of each use goes where it would alone)
    splits = [split(500 * q, 2000, [Owner(2, 7000), Owner(3, 3000)]) for q in quantities]
    assert (ben, chloe) == (-sum(s.owners[0][1] for s in splits), -sum(s.owners[1][1] for s in splits))
    # one entry holds the report's uses of the licence; every use row names it
    assert scalar(seeded, "SELECT count(*) FROM ledger_entry WHERE kind = 'usage.royalty'") == 1
    assert scalar(seeded, "SELECT count(DISTINCT receipt_id) FROM mt_usage_event") == 1000
    assert entries_of_uses(seeded) == {"uses": 1000, "entries": 1, "orphans": 0, "quantity": sum(quantities)}
    # resending the whole batch records nothing new
    again = report(seeded, "eli@lumen.example", [event(f"imp-{i}", 3, q) for i, q in enumerate(quantities)], clock())
    assert {o.status for o in again} == {"duplicate"}
    assert scalar(seeded, "SELECT count(*) FROM mt_usage_event") == 1000
    chain.seal(provided(Database, seeded).engine, now=clock())
    with provided(Database, seeded).engine.connect() as conn:
        assert verify(conn).ok


def entries_of_uses(app) -> dict[str, int]:
    """Uses summed over the usage.royalty entries, and uses whose entry is missing."""
    with provided(Database, app).engine.connect() as conn:
        metas = [
            m if isinstance(m, dict) else json.loads(m)
            for (m,) in conn.execute(text("SELECT metadata FROM ledger_entry WHERE kind = 'usage.royalty'"))
        ]
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM mt_usage_event u WHERE NOT EXISTS "
                "(SELECT 1 FROM ledger_entry e WHERE e.idempotency_key = u.ledger_key)"
            )
        ).scalar()
    return {
        "uses": sum(m["uses"] for m in metas),
        "entries": len(metas),
        "orphans": orphans,
        "quantity": sum(m["quantity"] for m in metas),
    }


def usage_commission(price: int) -> int:
    from ledger.money import commission

    return commission(price, 2000)


def _race(n: int, work):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def pg_app(pg_url, tmp_path, clock):
    from tests.conftest import make_test_app

    app = make_test_app(pg_url, tmp_path, clock, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    seed_demo(app, now=clock())
    clock.advance(days=1)
    yield app
    provided(Database, app).dispose()


@pytest.mark.postgres
def test_concurrent_resends_give_one_row_and_one_entry(pg_app, clock):
    app = pg_app
    # the same event id in single requests, and inside batches that also carry their own events
    results = _race(
        8,
        lambda i: report(app, "eli@lumen.example", [event("same-1")] + ([event(f"own-{i}")] if i % 2 else []), clock()),
    )
    firsts = [r[0] for r in results]
    assert sorted(o.status for o in firsts).count("accepted") == 1
    assert {o.receipt.token for o in firsts} == {firsts[0].receipt.token}
    assert scalar(app, "SELECT count(*) FROM mt_usage_event WHERE event_id = 'same-1'") == 1
    assert scalar(app, "SELECT count(*) FROM mt_usage_event WHERE event_id LIKE 'own-%'") == 4
    # five uses, each in exactly one entry: same-1 in the winner's, own-i in each batch's
    assert entries_of_uses(app)["uses"] == 5 and entries_of_uses(app)["orphans"] == 0
    assert balance(app, "brand:2:receivable:EUR") == 500 * 5


@pytest.mark.postgres
def test_concurrent_batches_cannot_overrun_the_cap(pg_app, clock):
    app = pg_app
    results = _race(
        8, lambda i: report(app, "dana@northwind.example", [event(f"cap-{i}-{j}", 1, 25) for j in range(4)], clock())
    )
    statuses = [o.status for batch in results for o in batch]
    assert statuses.count("accepted") == 20 and statuses.count("rejected") == 12  # 20 x 25 = the cap of 500
    assert scalar(app, "SELECT sum(quantity) FROM mt_usage_event WHERE licence_id = 1") == 500
    assert balance(app, "brand:1:receivable:USD") == 500 * 250
