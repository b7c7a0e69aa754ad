"""The ledger's subject column and ``positions``: where accounts stand at a cut-off,
worked through on both databases with generic account codes (the engine knows no
marketplace)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import literal, select, text

from ledger import EntryDraft, Ledger, Line
from ledger.book import AccountDefinition
from ledger.positions import positions
from ledger.verify import verify
from tests.ledger.book import Book

CUTOFF = datetime(2026, 11, 1, tzinfo=UTC)
OWED, CASH = "member:1:payable:USD", "house:cash:USD"


@pytest.fixture
def book(database_url):
    b = Book(database_url)
    b.ledger = Ledger(subject_key="case_id")
    with b.session() as s:
        b.ledger.open_accounts(
            s,
            [
                AccountDefinition(OWED, "liability", "USD", shards=4),
                AccountDefinition(CASH, "asset", "USD", allow_negative=True),
            ],
        )
        s.commit()
    yield b
    b.engine.dispose()


def earn(key: str, amount: int, days_before: float, case: int | str | None = None, kind: str = "earn") -> EntryDraft:
    meta = {} if case is None else {"case_id": case}
    return EntryDraft(
        key,
        kind,
        CUTOFF - timedelta(days=days_before),
        (Line(CASH, amount, "USD"), Line(OWED, -amount, "USD")),
        meta=meta,
    )


def subjects(book: Book) -> dict[str, int | None]:
    with book.engine.connect() as conn:
        return dict(conn.execute(text("SELECT idempotency_key, subject FROM ledger_entry")).all())


def test_the_subject_is_the_metadata_key_the_application_names(book):
    book.post(earn("one", 100, 3, case=7), now=CUTOFF)  # one entry alone (PostgreSQL's one-statement path)
    book.post(
        earn("a", 100, 3, case=8),
        earn("b", 100, 3, case="9"),
        earn("c", 100, 3),
        earn("d", 100, 3, case="x"),
        now=CUTOFF,
    )  # a batch
    assert subjects(book) == {"one": 7, "a": 8, "b": 9, "c": None, "d": None}
    with book.engine.connect() as conn:
        assert verify(conn, subject_key="case_id").ok
        assert not verify(conn, subject_key="other_key").ok  # the stored subjects are case_id's


def test_positions_split_later_moves_and_holds_at_the_cutoff(book):
    book.post(
        earn("old", 5_000, 400, case=1),  # long before the window: read through the balance only
        earn("held", 1_000, 2, case=1),  # case 1 holds 7 days: 2 days before the cut-off is held
        earn("free", 300, 10, case=1),  # 10 days before: the hold has passed
        earn("other", 200, 2, case=2),  # case 2 has no hold
        earn("late", 40, -1, case=1),  # after the cut-off
        now=CUTOFF,
    )
    payout = EntryDraft(
        "paid", "settle", CUTOFF + timedelta(days=1), (Line(OWED, 4_000, "USD"), Line(CASH, -4_000, "USD"))
    )
    book.post(payout, now=CUTOFF)
    holds = select(literal(1).label("subject"), literal(7).label("days"))  # one subject with a 7-day hold
    with book.session() as s:
        found = {
            p.code: p
            for p in positions(
                s.connection(), codes_like=["member:%:payable:___"], cutoff=CUTOFF, settling=["settle"], holds=holds
            )
        }
    assert list(found) == [OWED]
    owed = found[OWED]
    assert owed.balance == -(5_000 + 1_000 + 300 + 200 + 40) + 4_000
    assert owed.later == -40  # the settling payout is not a later earning
    assert owed.held == -1_000
