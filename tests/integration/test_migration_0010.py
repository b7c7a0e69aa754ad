"""Migration 0010 gives existing payables and receivables their balance shards and
takes them back, keeping every balance, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.migrate import downgrade, upgrade
from ledger import chart, recipes
from ledger.book import AccountDefinition
from ledger.recipes import Owner
from ledger.verify import verify
from tests.integration.book import Book

T = datetime(2026, 10, 1, tzinfo=timezone.utc)
PAYABLE, RECEIVABLE, RESERVE = "creator:42:payable:USD", "brand:5:receivable:USD", "creator:42:reserve:USD"


def shard_rows(book: Book) -> dict[str, list[tuple[int, int]]]:
    with book.engine.connect() as conn:
        rows = conn.execute(text("SELECT a.code, a.shards, b.shard, b.amount FROM ledger_account a "
                                 "JOIN ledger_balance b ON b.account_id = a.id ORDER BY a.code, b.shard")).all()
    out: dict[str, list[tuple[int, int]]] = {}
    for code, shards, shard, amount in rows:
        assert shards == len([r for r in rows if r[0] == code])
        out.setdefault(code, []).append((shard, amount))
    return out


def test_payables_and_receivables_get_shards_and_give_them_back(database_url):
    downgrade(database_url, "0009_usage_receipts")
    book = Book(database_url)
    with book.session() as s:  # the accounts as the chart opened them before: one guarded row each
        book.ledger.open_accounts(s, [AccountDefinition(PAYABLE, "liability", "USD"),
                                      AccountDefinition(RECEIVABLE, "asset", "USD"),
                                      AccountDefinition(RESERVE, "liability", "USD")])
        chart.open_accounts(book.ledger, s, chart.house_accounts("USD"))
        s.commit()
    book.post(recipes.derivative_use(key="use", effective_at=T, currency="USD", price=10_000, commission_bps=2000,
                                     brand_id=5, owners=[Owner(42, 1)]), now=T)
    book.engine.dispose()

    upgrade(database_url)
    book = Book(database_url)
    rows = shard_rows(book)
    assert rows[PAYABLE] == [(0, -8_000)] + [(n, 0) for n in range(1, 8)]
    assert rows[RECEIVABLE] == [(0, 10_000)] + [(n, 0) for n in range(1, 8)]
    assert rows[RESERVE] == [(0, 0)]  # quiet accounts keep one row
    # the chart's definitions match again, and the sharded payable earns and folds
    book.post(recipes.derivative_use(key="use2", effective_at=T, currency="USD", price=10_000, commission_bps=2000,
                                     brand_id=5, owners=[Owner(42, 1)]), now=T)
    book.post(recipes.payout_transfer(key="payout", effective_at=T, currency="USD", amount=15_000, creator_id=42),
              now=T)
    assert book.balance(PAYABLE) == -1_000 and book.balance(RECEIVABLE) == 20_000
    book.post(recipes.derivative_use(key="use3", effective_at=T, currency="USD", price=10_000, commission_bps=2000,
                                     brand_id=5, owners=[Owner(42, 1)]), now=T)
    assert sum(1 for _, amount in shard_rows(book)[RECEIVABLE] if amount) > 1  # spread over shards now
    book.engine.dispose()

    downgrade(database_url, "0009_usage_receipts")
    book = Book(database_url)
    rows = shard_rows(book)
    assert rows[PAYABLE] == [(0, -9_000)]
    assert rows[RECEIVABLE] == [(0, 30_000)]
    with book.engine.connect() as conn:
        assert verify(conn).ok
    # and a guarded account may not be sharded again at this revision
    with pytest.raises(IntegrityError), book.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_account SET shards = 2 WHERE code = :c"), {"c": PAYABLE})
    book.engine.dispose()
    upgrade(database_url)
