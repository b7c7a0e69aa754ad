"""Migration 0010 gives existing payables and receivables their balance shards and
takes them back, keeping every balance, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.books import chart, recipes
from app.books.recipes import Owner
from app.migrate import downgrade, upgrade
from ledger.book import AccountDefinition
from ledger.sql import db_time
from tests.ledger.book import Book

T = datetime(2026, 10, 1, tzinfo=UTC)
PAYABLE, RECEIVABLE, RESERVE = "creator:42:payable:USD", "brand:5:receivable:USD", "creator:42:reserve:USD"


def shard_rows(book: Book) -> dict[str, list[tuple[int, int]]]:
    with book.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.code, a.shards, b.shard, b.amount FROM ledger_account a "
                "JOIN ledger_balance b ON b.account_id = a.id ORDER BY a.code, b.shard"
            )
        ).all()
    out: dict[str, list[tuple[int, int]]] = {}
    for code, shards, shard, amount in rows:
        assert shards == len([r for r in rows if r[0] == code])
        out.setdefault(code, []).append((shard, amount))
    return out


def post_as_at_0009(book: Book, draft) -> None:
    """The entry as the ledger wrote it at revision 0009 (today's code writes columns that came later)."""
    with book.engine.begin() as conn:
        at = db_time(T, conn.dialect.name)
        seq = conn.execute(
            text(
                "INSERT INTO ledger_entry (idempotency_key, kind, effective_at, posted_at, memo, metadata,"
                " content_hash) "
                "VALUES (:k, :kind, :t, :t, :memo, :meta, :h) RETURNING seq"
            ),
            {
                "k": draft.idempotency_key,
                "kind": draft.kind,
                "t": at,
                "memo": draft.memo,
                "meta": "{}",
                "h": draft.content_hash(),
            },
        ).scalar_one()
        ids = {
            line.account: conn.execute(
                text("SELECT id FROM ledger_account WHERE code = :c"), {"c": line.account}
            ).scalar()
            for line in draft.lines
        }
        values = ", ".join(f"(:s, :a{n}, :m{n}, :c{n})" for n in range(len(draft.lines)))  # one statement: balanced
        params = {"s": seq}
        for n, line in enumerate(draft.lines):
            params.update({f"a{n}": ids[line.account], f"m{n}": line.amount, f"c{n}": line.currency})
        conn.execute(
            text(f"INSERT INTO ledger_posting (entry_seq, account_id, amount, currency) VALUES {values}"), params
        )
        for line in draft.lines:
            conn.execute(
                text(
                    "UPDATE ledger_balance SET amount = amount + :amount, last_seq = :s "
                    "WHERE account_id = :a AND shard = 0"
                ),
                {"amount": line.amount, "s": seq, "a": ids[line.account]},
            )


def balances_match_postings(book: Book) -> bool:
    with book.engine.connect() as conn:
        return not conn.execute(
            text(
                "SELECT a.code FROM ledger_account a "
                "LEFT JOIN (SELECT account_id, sum(amount) AS amount FROM ledger_balance GROUP BY account_id) b "
                "ON b.account_id = a.id "
                "LEFT JOIN (SELECT account_id, sum(amount) AS amount FROM ledger_posting GROUP BY account_id) p "
                "ON p.account_id = a.id WHERE coalesce(b.amount, 0) <> coalesce(p.amount, 0)"
            )
        ).all()


def test_payables_and_receivables_get_shards_and_give_them_back(database_url):
    downgrade(database_url, "0009_usage_receipts")
    book = Book(database_url)
    with book.session() as s:  # the accounts as the chart opened them before: one guarded row each
        book.ledger.open_accounts(
            s,
            [
                AccountDefinition(PAYABLE, "liability", "USD"),
                AccountDefinition(RECEIVABLE, "asset", "USD"),
                AccountDefinition(RESERVE, "liability", "USD"),
            ],
        )
        chart.open_accounts(book.ledger, s, chart.house_accounts("USD"))
        s.commit()
    post_as_at_0009(
        book,
        recipes.derivative_use(
            key="use",
            effective_at=T,
            currency="USD",
            price=10_000,
            commission_bps=2000,
            brand_id=5,
            owners=[Owner(42, 1)],
        ),
    )
    book.engine.dispose()

    upgrade(database_url)
    book = Book(database_url)
    rows = shard_rows(book)
    assert rows[PAYABLE] == [(0, -8_000)] + [(n, 0) for n in range(1, 8)]
    assert rows[RECEIVABLE] == [(0, 10_000)] + [(n, 0) for n in range(1, 8)]
    assert rows[RESERVE] == [(0, 0)]  # quiet accounts keep one row
    # the chart's definitions match again, and the sharded payable earns and folds
    book.post(
        recipes.derivative_use(
            key="use2",
            effective_at=T,
            currency="USD",
            price=10_000,
            commission_bps=2000,
            brand_id=5,
            owners=[Owner(42, 1)],
        ),
        now=T,
    )
    book.post(
        recipes.payout_transfer(key="payout", effective_at=T, currency="USD", amount=15_000, creator_id=42), now=T
    )
    assert book.balance(PAYABLE) == -1_000 and book.balance(RECEIVABLE) == 20_000
    book.post(
        recipes.derivative_use(
            key="use3",
            effective_at=T,
            currency="USD",
            price=10_000,
            commission_bps=2000,
            brand_id=5,
            owners=[Owner(42, 1)],
        ),
        now=T,
    )
    assert sum(1 for _, amount in shard_rows(book)[RECEIVABLE] if amount) > 1  # spread over shards now
    book.engine.dispose()

    downgrade(database_url, "0009_usage_receipts")
    book = Book(database_url)
    rows = shard_rows(book)
    assert rows[PAYABLE] == [(0, -9_000)]
    assert rows[RECEIVABLE] == [(0, 30_000)]
    assert balances_match_postings(book)
    # and a guarded account may not be sharded again at this revision
    with pytest.raises(IntegrityError), book.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_account SET shards = 2 WHERE code = :c"), {"c": PAYABLE})
    book.engine.dispose()
    upgrade(database_url)
