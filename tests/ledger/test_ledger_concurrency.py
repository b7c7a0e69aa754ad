"""Many writers at once, on PostgreSQL (SQLite serialises writers by design).

Threads start together behind a barrier — synchronisation, not sleeps — and each
uses its own connection from the pool.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timezone

import pytest

from app.books import recipes
from app.books.recipes import Owner
from ledger import InsufficientBalance
from ledger.chain import seal
from ledger.verify import verify
from tests.ledger.book import Book

T = datetime(2026, 10, 1, tzinfo=UTC)
WRITERS = 8


@pytest.fixture
def pg_book(pg_url):
    book = Book(pg_url)
    book.engine.dispose()
    from ledger.db import make_engine

    book.engine = make_engine(pg_url, pool_size=WRITERS + 2, max_overflow=60)
    book.sessions.configure(bind=book.engine)
    yield book
    book.engine.dispose()


def run_together(n: int, work):
    barrier = threading.Barrier(n)

    def task(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [f.exception() or f.result() for f in [pool.submit(task, i) for i in range(n)]]


def test_concurrent_writers_on_shared_accounts_keep_balances_and_chain(pg_book):
    creators = range(1, 5)
    pg_book.open(
        *[f"creator:{c}:payable:USD" for c in creators],
        *[f"brand:{b}:receivable:USD" for b in (1, 2)],
        "platform:revenue:commission:USD",
        "platform:stripe:USD",
        "platform:fees:stripe:USD",
    )
    per_writer = 40

    def writer(i):
        for n in range(per_writer):
            # every writer credits shared creators and the shared commission account
            use = recipes.derivative_use(
                key=f"use:{i}:{n}",
                effective_at=T,
                currency="USD",
                price=250 + n,
                commission_bps=2000,
                brand_id=1 + i % 2,
                owners=[Owner(1 + (i + n) % 4, 1), Owner(1 + (i + n + 1) % 4, 1)],
            )
            pg_book.post(use, now=T)
        return per_writer

    results = run_together(WRITERS, writer)
    assert results == [per_writer] * WRITERS
    assert pg_book.scalar("SELECT count(*) FROM ledger_entry") == WRITERS * per_writer
    expected_receivable = sum(250 + n for n in range(per_writer)) * WRITERS
    assert pg_book.balance("brand:1:receivable:USD") + pg_book.balance("brand:2:receivable:USD") == expected_receivable
    seal(pg_book.engine, now=T)
    with pg_book.engine.connect() as conn:
        report = verify(conn)
    assert report.ok, report.problems
    assert report.entries == WRITERS * per_writer and report.unsealed == 0


def test_fifty_concurrent_payouts_of_the_same_payable_exactly_one_succeeds(pg_book):
    pg_book.open(
        "creator:42:payable:USD", "platform:stripe:USD", "platform:fees:stripe:USD", "platform:revenue:commission:USD"
    )
    pg_book.post(
        recipes.licence_sale(
            key="sale",
            effective_at=T,
            currency="USD",
            gross=12_500,
            stripe_fee=0,
            commission_bps=2000,
            owners=[Owner(42, 1)],
        ),
        now=T,
    )
    assert pg_book.balance("creator:42:payable:USD") == -10_000  # 100.00 owed to the creator

    def pay(i):
        draft = recipes.payout_transfer(key=f"payout:{i}", effective_at=T, currency="USD", amount=10_000, creator_id=42)
        pg_book.post(draft, now=T)
        return "paid"

    outcomes = run_together(50, pay)
    assert outcomes.count("paid") == 1
    assert all(isinstance(o, InsufficientBalance) for o in outcomes if o != "paid")
    assert pg_book.balance("creator:42:payable:USD") == 0
    assert pg_book.scalar("SELECT count(*) FROM ledger_entry WHERE kind = 'payout.transfer'") == 1
    seal(pg_book.engine, now=T)
    with pg_book.engine.connect() as conn:
        assert verify(conn).ok


def test_earnings_and_payouts_racing_on_one_sharded_payable_never_overdraw_or_deadlock(pg_book):
    # sales spread the creator's earnings over the payable's shards while payouts fold
    # them: every payout sees the whole balance, none overdraws, no writer deadlocks
    pg_book.open(
        "creator:7:payable:USD", "platform:stripe:USD", "platform:fees:stripe:USD", "platform:revenue:commission:USD"
    )
    per_writer = 25

    def work(i):
        paid = 0
        for n in range(per_writer):
            if i % 2 == 0:  # earns 80.00
                pg_book.post(
                    recipes.licence_sale(
                        key=f"sale:{i}:{n}",
                        effective_at=T,
                        currency="USD",
                        gross=10_000,
                        stripe_fee=0,
                        commission_bps=2000,
                        owners=[Owner(7, 1)],
                    ),
                    now=T,
                )
            else:
                try:
                    pg_book.post(
                        recipes.payout_transfer(
                            key=f"payout:{i}:{n}", effective_at=T, currency="USD", amount=8_000, creator_id=7
                        ),
                        now=T,
                    )
                    paid += 1
                except InsufficientBalance:
                    pass
        return paid

    results = run_together(WRITERS, work)
    assert all(isinstance(r, int) for r in results), results
    payouts = sum(results[1::2])
    assert payouts == pg_book.scalar("SELECT count(*) FROM ledger_entry WHERE kind = 'payout.transfer'")
    earned = 8_000 * per_writer * (WRITERS // 2)
    assert pg_book.balance("creator:7:payable:USD") == -(earned - 8_000 * payouts) <= 0
    assert (
        pg_book.scalar(
            "SELECT max(b.amount) FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id "
            "WHERE a.code = 'creator:7:payable:USD'"
        )
        <= 0
    )  # no row on the wrong side of zero
    seal(pg_book.engine, now=T)
    with pg_book.engine.connect() as conn:
        report = verify(conn)
    assert report.ok, report.problems


def test_sealer_running_alongside_writers_never_leaves_a_hole(pg_book):
    pg_book.open("creator:1:payable:USD", "brand:1:receivable:USD", "platform:revenue:commission:USD")
    stop = threading.Event()
    sealed = []

    def writer(i):
        if i == WRITERS - 1:  # one thread seals continuously while the others write
            while not stop.is_set():
                sealed.append(seal(pg_book.engine, now=T).sealed)
            return "sealer"
        for n in range(30):
            pg_book.post(
                recipes.derivative_use(
                    key=f"u:{i}:{n}",
                    effective_at=T,
                    currency="USD",
                    price=100,
                    commission_bps=1000,
                    brand_id=1,
                    owners=[Owner(1, 1)],
                ),
                now=T,
            )
        return "writer"

    barrier_done = threading.Barrier(WRITERS - 1, action=stop.set)

    def work(i):
        result = writer(i)
        if result == "writer":
            barrier_done.wait()
        return result

    outcomes = run_together(WRITERS, work)
    assert outcomes.count("writer") == WRITERS - 1
    seal(pg_book.engine, now=T)
    with pg_book.engine.connect() as conn:
        report = verify(conn)
    assert report.ok, report.problems
    assert report.entries == 30 * (WRITERS - 1) and report.unsealed == 0
