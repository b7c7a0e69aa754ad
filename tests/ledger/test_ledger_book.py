"""The book on a real migrated database — the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.books import recipes
from app.books.recipes import Owner
from ledger import (
    AlreadyReversed,
    EntryDraft,
    IdempotencyConflict,
    InsufficientBalance,
    LedgerError,
    Line,
    PeriodClosed,
    UnbalancedEntry,
    UnknownAccount,
)
from ledger.chain import seal
from ledger.periods import close_period
from ledger.reports import balance_at, trial_balance
from ledger.verify import verify

T0 = datetime(2026, 10, 1, tzinfo=UTC)
PAYABLE = "creator:42:payable:USD"
STRIPE = "platform:stripe:USD"
COMMISSION = "platform:revenue:commission:USD"
FEES = "platform:fees:stripe:USD"
RECEIVABLE = "brand:5:receivable:USD"


@pytest.fixture
def opened(book):
    book.open(PAYABLE, STRIPE, COMMISSION, FEES, RECEIVABLE, "creator:42:payable:EUR", "platform:stripe:EUR")
    return book


def sale(key="sale:1", gross=10_000, fee=320, at=T0):
    return recipes.licence_sale(
        key=key,
        effective_at=at,
        currency="USD",
        gross=gross,
        stripe_fee=fee,
        commission_bps=2000,
        owners=[Owner(42, 1)],
    )


def counts(book):
    return (
        book.scalar("SELECT count(*) FROM ledger_entry"),
        book.scalar("SELECT count(*) FROM ledger_posting"),
        book.scalar("SELECT coalesce(sum(version), 0) FROM ledger_balance"),
    )


def test_post_updates_balances_in_the_same_transaction(opened):
    [entry] = opened.post(sale(), now=T0)
    assert entry.seq > 0 and not entry.replayed
    assert opened.balance(STRIPE) == 9_680
    assert opened.balance(FEES) == 320
    assert opened.balance(PAYABLE) == -8_000
    assert opened.balance(COMMISSION) == -2_000
    assert opened.scalar("SELECT count(*) FROM ledger_posting WHERE entry_seq = :s", s=entry.seq) == 4


def test_same_key_same_content_returns_the_existing_entry(opened):
    [first] = opened.post(sale(), now=T0)
    [again] = opened.post(sale(), now=T0 + timedelta(hours=1))
    assert again.replayed and again.seq == first.seq and again.content_hash == first.content_hash
    assert opened.balance(PAYABLE) == -8_000
    assert opened.scalar("SELECT count(*) FROM ledger_entry") == 1


def test_same_key_different_content_is_a_conflict_and_writes_nothing(opened):
    opened.post(sale(), now=T0)
    before = counts(opened)
    with pytest.raises(IdempotencyConflict):
        opened.post(sale(gross=10_001), now=T0)
    assert counts(opened) == before


@pytest.mark.parametrize(
    "bad_lines,error",
    [
        ([Line(STRIPE, 100, "USD")], UnbalancedEntry),
        ([Line(STRIPE, 100, "USD"), Line(PAYABLE, -99, "USD")], UnbalancedEntry),
        ([Line(STRIPE, 0, "USD"), Line(PAYABLE, 0, "USD")], UnbalancedEntry),
        ([Line(STRIPE, 100, "USD"), Line("creator:42:payable:EUR", -100, "EUR")], UnbalancedEntry),
        ([Line(STRIPE, 100, "EUR"), Line("platform:stripe:EUR", -100, "EUR")], UnbalancedEntry),
        ([Line(STRIPE, 100, "USD"), Line("creator:999:payable:USD", -100, "USD")], UnknownAccount),
        ([Line(STRIPE, 1.5, "USD"), Line(PAYABLE, -1.5, "USD")], UnbalancedEntry),
    ],
)
def test_invalid_entries_are_rejected_and_leave_no_trace(opened, bad_lines, error):
    before = counts(opened)
    with pytest.raises(error):
        opened.post(EntryDraft("bad", "test", T0, tuple(bad_lines)), now=T0)
    assert counts(opened) == before


def test_a_batch_is_all_or_nothing(opened):
    good = sale("sale:ok")
    bad = EntryDraft("bad", "test", T0, (Line(STRIPE, 5, "USD"), Line("creator:999:payable:USD", -5, "USD")))
    with pytest.raises(UnknownAccount):
        opened.post(good, bad, now=T0)
    assert counts(opened)[0] == 0
    posted = opened.post(*(sale(f"sale:{i}") for i in range(50)), now=T0)
    assert len({p.seq for p in posted}) == 50
    assert opened.balance(PAYABLE) == -8_000 * 50


def test_payable_cannot_be_paid_out_twice(opened):
    opened.post(sale(), now=T0)
    pay = recipes.payout_transfer(key="payout:1", effective_at=T0, currency="USD", amount=8_000, creator_id=42)
    opened.post(pay, now=T0)
    before = counts(opened)
    twice = recipes.payout_transfer(key="payout:2", effective_at=T0, currency="USD", amount=8_000, creator_id=42)
    with pytest.raises(InsufficientBalance) as info:
        opened.post(twice, now=T0)
    assert info.value.account_code == PAYABLE
    assert counts(opened) == before
    assert opened.balance(PAYABLE) == 0


def test_the_database_refuses_a_guarded_balance_below_zero(opened):
    with pytest.raises(DBAPIError):
        with opened.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE ledger_balance SET amount = 1 WHERE account_id = "
                    "(SELECT id FROM ledger_account WHERE code = :c)"
                ),
                {"c": PAYABLE},
            )


def test_reversal_is_posted_once_and_restores_balances(opened):
    [entry] = opened.post(sale(), now=T0)
    with opened.session() as s:
        rev = opened.ledger.reverse(s, entry.seq, idempotency_key="rev:1", now=T0)
        s.commit()
    assert rev.reverses_seq == entry.seq and rev.kind == "reversal"
    for code in (STRIPE, FEES, PAYABLE, COMMISSION):
        assert opened.balance(code) == 0
    with opened.session() as s:
        replay = opened.ledger.reverse(s, entry.seq, idempotency_key="rev:1", now=T0)
        assert replay.replayed and replay.seq == rev.seq
        with pytest.raises(AlreadyReversed):
            opened.ledger.reverse(s, entry.seq, idempotency_key="rev:2", now=T0)
        with pytest.raises(LedgerError):
            opened.ledger.reverse(s, rev.seq, idempotency_key="rev:3", now=T0)


def test_the_database_allows_one_reversal_per_entry(opened):
    [entry] = opened.post(sale(), now=T0)
    with opened.session() as s:
        opened.ledger.reverse(s, entry.seq, idempotency_key="rev:1", now=T0)
        s.commit()
    with pytest.raises(DBAPIError):
        with opened.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_entry (idempotency_key, kind, effective_at, posted_at, memo, reverses_seq, "
                    "metadata, content_hash) VALUES ('x', 'reversal', :t, :t, '', :s, '{}', 'h')"
                ),
                {"t": T0.replace(tzinfo=None), "s": entry.seq},
            )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET memo = 'edited'",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_posting SET amount = amount + 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_seal SET hash = 'x'",
        "DELETE FROM ledger_seal",
    ],
)
def test_raw_update_and_delete_are_refused_by_the_database(opened, statement):
    opened.post(sale(), now=T0)
    seal(opened.engine, now=T0)
    with pytest.raises(DBAPIError) as info:
        with opened.engine.begin() as conn:
            conn.execute(text(statement))
    assert "append-only" in str(info.value)
    assert opened.scalar("SELECT count(*) FROM ledger_posting") == 4
    assert opened.scalar("SELECT count(*) FROM ledger_seal") == 1


def test_truncate_is_refused_on_postgresql(pg_url):
    from tests.ledger.book import Book

    book = Book(pg_url)
    book.open(PAYABLE, STRIPE, COMMISSION, FEES)
    book.post(sale(), now=T0)
    with pytest.raises(DBAPIError, match="append-only"):
        with book.engine.begin() as conn:
            conn.execute(text("TRUNCATE ledger_posting, ledger_entry CASCADE"))
    assert book.scalar("SELECT count(*) FROM ledger_posting") == 4
    book.engine.dispose()


def test_database_rejects_postings_that_break_invariant_one(opened):
    [entry] = opened.post(sale(), now=T0)
    usd_account = opened.scalar("SELECT id FROM ledger_account WHERE code = :c", c=STRIPE)
    # a posting in another currency than its account: composite foreign key
    with pytest.raises(DBAPIError):
        with opened.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_posting (entry_seq, account_id, amount, currency) "
                    "VALUES (:e, :a, 5, 'EUR'), (:e, :a, -5, 'EUR')"
                ),
                {"e": entry.seq, "a": usd_account},
            )
    # a zero posting: CHECK constraint
    with pytest.raises(DBAPIError):
        with opened.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO ledger_posting (entry_seq, account_id, amount, currency) VALUES (:e, :a, 0, 'USD')"),
                {"e": entry.seq, "a": usd_account},
            )
    if opened.dialect == "postgresql":  # statement trigger: postings of one statement must balance
        with pytest.raises(DBAPIError, match="does not balance"):
            with opened.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO ledger_posting (entry_seq, account_id, amount, currency) "
                        "VALUES (:e, :a, 5, 'USD'), (:e, :a, -4, 'USD')"
                    ),
                    {"e": entry.seq, "a": usd_account},
                )


def test_closed_periods_refuse_entries_in_code_and_in_the_database(opened):
    with opened.session() as s:
        close_period(
            s,
            name="2026-09",
            starts_at=datetime(2026, 9, 1, tzinfo=UTC),
            ends_at=T0,
            closed_by="accountant@example.com",
            now=T0,
        )
        s.commit()
    before = counts(opened)
    with pytest.raises(PeriodClosed):
        opened.post(sale(at=T0 - timedelta(microseconds=1)), now=T0)
    assert counts(opened) == before
    opened.post(sale(at=T0), now=T0)  # the first instant of October is open
    with pytest.raises(DBAPIError, match="closed period"):
        with opened.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_entry (idempotency_key, kind, effective_at, posted_at, memo, metadata, "
                    "content_hash) VALUES ('raw', 'test', :t, :t, '', '{}', 'h')"
                ),
                {"t": datetime(2026, 9, 15)},
            )


def test_balances_as_of_and_trial_balance(opened):
    opened.post(sale("s1", at=T0), sale("s2", at=T0 + timedelta(days=10)), now=T0 + timedelta(days=10))
    with opened.engine.connect() as conn:
        assert balance_at(conn, PAYABLE, before=T0).minor == 0
        assert balance_at(conn, PAYABLE, before=T0 + timedelta(days=1)).minor == -8_000
        assert balance_at(conn, PAYABLE).minor == -16_000
        tb = trial_balance(conn, before=T0 + timedelta(days=1))
        assert tb.balanced
        assert tb.totals()["USD"] == (10_000, 10_000)
        frame = tb.to_frame()
        assert str(frame["debit"].dtype) == "Int64"
        now_tb = trial_balance(conn)
        assert now_tb.totals()["USD"] == (20_000, 20_000)
        assert {r.code: r.normal for r in now_tb.rows}[PAYABLE] == 16_000


def rows_of(book, code):
    """{shard: amount} of an account's balance rows."""
    with book.engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT b.shard, b.amount FROM ledger_balance b JOIN ledger_account a "
                    "ON a.id = b.account_id WHERE a.code = :c"
                ),
                {"c": code},
            ).all()
        )


def test_busy_accounts_spread_over_shards_but_read_as_one(opened):
    for i in range(40):  # one entry per commit, as sales arrive
        opened.post(sale(f"s{i}"), now=T0)
    commission = rows_of(opened, COMMISSION)
    assert len(commission) == 16 and sum(1 for v in commission.values() if v) > 1
    assert opened.balance(COMMISSION) == -2_000 * 40
    # a guarded payable spreads what it earns too, and every row stays on its side of zero
    payable = rows_of(opened, PAYABLE)
    assert len(payable) == 8 and sum(1 for v in payable.values() if v) > 1
    assert all(v <= 0 for v in payable.values())
    assert opened.balance(PAYABLE) == -8_000 * 40


def payout(key, amount):
    return recipes.payout_transfer(key=key, effective_at=T0, currency="USD", amount=amount, creator_id=42)


def test_a_payout_folds_the_payables_shards_and_is_checked_against_the_whole_balance(opened):
    # worked example: eight sales of 100.00 (creator's part 80.00 each) land on several shards;
    # no single shard holds 120.00, yet a payout of 120.00 is within the 640.00 owed
    for i in range(8):
        opened.post(sale(f"s{i}"), now=T0)
    assert min(rows_of(opened, PAYABLE).values()) > -12_000
    opened.post(payout("p1", 12_000), now=T0)
    assert rows_of(opened, PAYABLE) == {0: -52_000, **dict.fromkeys(range(1, 8), 0)}
    assert opened.balance(PAYABLE) == -52_000
    # more than the whole balance is refused, and nothing moves
    before = counts(opened)
    with pytest.raises(InsufficientBalance) as info:
        opened.post(payout("p2", 52_001), now=T0)
    assert info.value.account_code == PAYABLE
    assert counts(opened) == before
    # exactly the rest is fine, and new earnings spread again afterwards
    opened.post(payout("p3", 52_000), now=T0)
    assert opened.balance(PAYABLE) == 0
    opened.post(sale("s8"), now=T0)
    assert opened.balance(PAYABLE) == -8_000
    with opened.engine.connect() as conn:
        assert verify(conn).ok


def test_a_batch_moves_a_guarded_account_by_its_net_change(opened):
    opened.post(sale("s0"), now=T0)  # 80.00 owed
    # in one batch: a sale (+80.00 owed) and a payout of 150.00: net −70.00, within 160.00
    opened.post(sale("s1"), payout("p1", 15_000), now=T0)
    assert opened.balance(PAYABLE) == -1_000
    assert rows_of(opened, PAYABLE)[0] == -1_000  # folded
    # net +80.00 − 10.00: an increase, on one shard, no fold
    opened.post(sale("s2"), payout("p2", 1_000), now=T0)
    assert opened.balance(PAYABLE) == -8_000
    # a batch whose net would cross zero is refused as a whole
    with pytest.raises(InsufficientBalance):
        opened.post(sale("s3"), payout("p3", 16_001), now=T0)
    assert opened.balance(PAYABLE) == -8_000


def test_seal_and_verify(opened):
    opened.post(*(sale(f"s{i}") for i in range(5)), now=T0)
    first = seal(opened.engine, now=T0)
    assert first.sealed == 5
    opened.post(sale("late"), now=T0)
    with opened.engine.connect() as conn:
        report = verify(conn)
    assert report.ok and report.sealed_through == first.head_seq and report.unsealed == 1
    assert seal(opened.engine, now=T0).sealed == 1
    assert seal(opened.engine, now=T0).sealed == 0
    with opened.engine.connect() as conn:
        assert verify(conn).unsealed == 0


def tamper(book, sql: str, **params):
    """What a superuser could do: switch the guards off, edit, switch them back on."""
    with book.engine.begin() as conn:
        if book.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(sql), params)
        else:
            conn.execute(text("DROP TRIGGER ledger_posting_no_update"))
            conn.execute(text("DROP TRIGGER ledger_entry_no_update"))
            conn.execute(text(sql), params)
            from ledger import ddl

            for statement in ddl.install_statements("sqlite"):
                if "ledger_posting_no_update" in statement or "ledger_entry_no_update" in statement:
                    conn.execute(text(statement))


def test_tampering_with_one_amount_is_found_and_named(opened):
    posted = opened.post(*(sale(f"s{i}") for i in range(6)), now=T0)
    seal(opened.engine, now=T0)
    victim = posted[3].seq
    tamper(
        opened,
        "UPDATE ledger_posting SET amount = amount + 100 WHERE entry_seq = :s AND amount > 0 "
        "AND id = (SELECT min(id) FROM ledger_posting WHERE entry_seq = :s)",
        s=victim,
    )
    with opened.engine.connect() as conn:
        report = verify(conn)
    assert not report.ok
    assert report.first_bad_seq == victim
    assert any("hash" in p.message for p in report.problems if p.seq == victim)
    assert any(p.account for p in report.problems)  # the stored balance no longer matches either


def test_rewriting_an_entry_and_its_stored_hash_breaks_the_chain(opened):
    posted = opened.post(*(sale(f"s{i}") for i in range(4)), now=T0)
    seal(opened.engine, now=T0)
    victim = posted[1]
    forged = dataclasses.replace(sale(victim.idempotency_key), memo="innocent").content_hash()
    tamper(
        opened, "UPDATE ledger_entry SET memo = 'innocent', content_hash = :h WHERE seq = :s", h=forged, s=victim.seq
    )
    with opened.engine.connect() as conn:
        report = verify(conn)
    assert report.first_bad_seq == victim.seq
    assert [p.message for p in report.problems if p.seq == victim.seq] == [
        "seal hash does not match the entry (chain broken)"
    ]


def test_open_accounts_opens_many_at_once_and_keeps_existing_ones(book):
    from ledger import AccountConflict
    from ledger.book import AccountDefinition

    book.open(PAYABLE)
    wanted = [
        AccountDefinition(PAYABLE, "liability", "USD", shards=8),
        AccountDefinition(COMMISSION, "revenue", "USD", allow_negative=True, shards=16),
        *(AccountDefinition(f"creator:{i}:reserve:USD", "liability", "USD") for i in range(100, 400)),
    ]
    with book.session() as s:
        opened = book.ledger.open_accounts(s, wanted)
        s.commit()
    assert len(opened) == 302 and len({ref.id for ref in opened.values()}) == 302
    assert book.scalar("SELECT COUNT(*) FROM ledger_account") == 302
    assert book.scalar("SELECT COUNT(*) FROM ledger_balance") == 300 + 8 + 16  # one row per shard, all zero
    assert book.scalar("SELECT COUNT(*) FROM ledger_balance WHERE amount <> 0") == 0
    with book.session() as s:  # again: nothing new
        assert book.ledger.open_accounts(s, wanted) == opened
    with book.session() as s, pytest.raises(AccountConflict):
        book.ledger.open_accounts(s, [AccountDefinition(PAYABLE, "asset", "USD")])
    with book.session() as s, pytest.raises(LedgerError, match="1 to 64"):
        book.ledger.open_accounts(s, [AccountDefinition("platform:x:USD", "asset", "USD", shards=65)])
