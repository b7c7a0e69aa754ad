"""app.books.statements on a worked example, line by line, on SQLite and PostgreSQL.

Ava is creator 1, Chloe creator 2 (co-owner of cameo licences 14 and 15, 70/30).
Commission is 20 %.  The statement is Ava's, USD, October 2026.

  09-10  sale L7 100.00                       payable   80.00  (before the period: opening)
  10-02  sale L11 500.00                     +400.00
  10-03  3 uses L12 (brand 5) at 10.00         +24.00
  10-04  2 uses L13 (brand 6) at 25.00         +40.00
  10-05  co-owned use L14 (brand 5) 10.01      +5.61   (801 split 70/30 → 561 / 240)
  10-06  co-owned sale L15 200.00            +112.00   (16,000 → 11,200 / 4,800)
  10-07  reserve hold 50.00                  −50.00    reserve +50.00
  10-15  payout 611.61                       −611.61
  10-16  that transfer failed: reversal      +611.61
  10-17  payout again 611.61                 −611.61
  10-20  reserve release 20.00               +20.00    reserve −20.00
  10-25  refund of L11 500.00 (after payout) −20.00    recoverable +380.00
  10-28  1 use L12 (brand 5)                   +8.00
  11-02  1 use L12 (after the period: not in it)
closing: payable 8.00, reserve 30.00, recoverable 380.00
"""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import text

from app.books import chart, recipes
from app.books.recipes import Owner
from app.books.statements import (
    ActivePeriod,
    Balances,
    StatementMismatch,
    Summary,
    creator_statement,
    months_with_activity,
)
from ledger import LedgerError
from ledger.reports import balance_at

OCT, NOV, DEC = (datetime(2026, m, 1, tzinfo=UTC) for m in (10, 11, 12))
AVA, CHLOE = 1, 2
ALONE, SHARED = [Owner(AVA, 10_000)], [Owner(AVA, 7_000), Owner(CHLOE, 3_000)]


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def sale(key, when, licence, gross, owners=ALONE):
    return recipes.licence_sale(
        key=key,
        effective_at=when,
        currency="USD",
        gross=gross,
        stripe_fee=gross // 30,
        commission_bps=2000,
        owners=owners,
        meta={"licence_id": licence},
    )


def use(key, when, licence, brand, price, owners=ALONE):
    return recipes.derivative_use(
        key=key,
        effective_at=when,
        currency="USD",
        price=price,
        commission_bps=2000,
        brand_id=brand,
        owners=owners,
        meta={"licence_id": licence},
    )


def post(book, *drafts, now=None):
    with book.session() as s:
        chart.open_accounts_for(book.ledger, s, drafts)
        posted = book.ledger.post_batch(s, list(drafts), now=now or drafts[-1].effective_at)
        s.commit()
    return posted


@pytest.fixture
def worked(book):
    post(book, sale("sale:7", at(9, 10), 7, 10_000))
    post(book, sale("sale:11", at(10, 2), 11, 50_000))
    post(book, *(use(f"use:12:{i}", at(10, 3), 12, 5, 1_000) for i in range(3)))
    post(book, *(use(f"use:13:{i}", at(10, 4), 13, 6, 2_500) for i in range(2)))
    post(book, use("use:14:0", at(10, 5), 14, 5, 1_001, SHARED))
    post(book, sale("sale:15", at(10, 6), 15, 20_000, SHARED))
    # a brand paying its invoice touches no creator account: not on the statement
    post(
        book,
        recipes.usage_invoice_paid(
            key="invoice:1", effective_at=at(10, 6), currency="USD", amount=3_000, stripe_fee=117, brand_id=5
        ),
    )
    post(
        book,
        recipes.holdback_to_reserve(
            key="settlement:2026-10:reserve:1:USD", effective_at=at(10, 7), currency="USD", amount=5_000, creator_id=AVA
        ),
    )
    payout = post(
        book,
        recipes.payout_transfer(
            key="payout:item:1",
            effective_at=at(10, 15),
            currency="USD",
            amount=61_161,
            creator_id=AVA,
            meta={"period": "2026-09", "item_id": 1, "creator_id": AVA},
        ),
    )[0]
    with book.session() as s:
        book.ledger.reverse(
            s, payout.seq, idempotency_key="payout:item:1:reversal", now=at(10, 16), effective_at=at(10, 16)
        )
        s.commit()
    post(
        book,
        recipes.payout_transfer(
            key="payout:item:1:2", effective_at=at(10, 17), currency="USD", amount=61_161, creator_id=AVA
        ),
    )
    post(
        book,
        recipes.reserve_release(
            key="settlement:2026-10:release:1:USD",
            effective_at=at(10, 20),
            currency="USD",
            amount=2_000,
            creator_id=AVA,
        ),
    )
    post(
        book,
        recipes.refund(
            key="licence-refund:re_1",
            effective_at=at(10, 25),
            currency="USD",
            amount=50_000,
            original=recipes.split(50_000, 2000, ALONE),
            payable_available={AVA: 2_000},
            meta={"licence_id": 11, "refund": "re_1"},
        ),
    )
    post(book, use("use:12:3", at(10, 28), 12, 5, 1_000))
    post(book, use("use:12:4", at(11, 2), 12, 5, 1_000))
    return book


def statement(book, creator=AVA, start=OCT, end=NOV, currency="USD"):
    with book.engine.connect() as conn:
        return creator_statement(conn, creator, currency, start, end)


def test_opening_closing_and_the_invariant(worked):
    s = statement(worked)
    assert s.opening == Balances(payable=8_000, reserve=0, recoverable=0)
    assert s.closing == Balances(payable=800, reserve=3_000, recoverable=38_000)
    assert s.opening + s.movement == s.closing
    with worked.engine.connect() as conn:  # the ledger's own balance at the end of October, summed independently
        assert -balance_at(conn, "creator:1:payable:USD", before=NOV).minor == 800
        assert -balance_at(conn, "creator:1:reserve:USD", before=NOV).minor == 3_000
        assert balance_at(conn, "creator:1:recoverable:USD", before=NOV).minor == 38_000
    assert s.carried_forward == 800


def test_sales_per_licence(worked):
    assert statement(worked).sales == (
        Summary(licence_id=11, count=1, gross=50_000, commission=10_000, net=40_000, co_owned=False),
        Summary(licence_id=15, count=1, gross=20_000, commission=4_000, net=11_200, co_owned=True),
    )


def test_uses_per_licence_and_brand(worked):
    assert statement(worked).uses == (
        Summary(licence_id=12, brand_id=5, count=4, gross=4_000, commission=800, net=3_200, co_owned=False),
        Summary(licence_id=13, brand_id=6, count=2, gross=5_000, commission=1_000, net=4_000, co_owned=False),
        Summary(licence_id=14, brand_id=5, count=1, gross=1_001, commission=200, net=561, co_owned=True),
    )


def changes(lines):
    return [(l.kind, l.change.payable, l.change.reserve, l.change.recoverable) for l in lines]


def test_reserve_payouts_refunds_line_by_line(worked):
    s = statement(worked)
    assert changes(s.section("reserve")) == [("reserve.hold", -5_000, 5_000, 0), ("reserve.release", 2_000, -2_000, 0)]
    assert changes(s.section("payouts")) == [
        ("payout.transfer", -61_161, 0, 0),
        ("reversal", 61_161, 0, 0),
        ("payout.transfer", -61_161, 0, 0),
    ]
    (refund,) = s.section("refunds")
    assert (refund.kind, refund.licence_id, refund.gross, refund.commission) == ("licence.refund", 11, -50_000, -10_000)
    assert (refund.change.payable, refund.change.recoverable) == (-2_000, 38_000)
    assert s.section("other") == ()
    assert [l.gross for l in s.section("payouts") + s.section("reserve")] == [None] * 5
    assert s.section_total("payouts") == Balances(payable=-61_161)
    # every line is in the period, in business-time order; the invoice and November's use are not there
    assert all(OCT <= l.effective_at < NOV for l in s.lines)
    assert [l.effective_at for l in s.lines] == sorted(l.effective_at for l in s.lines)
    assert len(s.lines) == 4 + 2 + 1 + 2 + 2 + 3 + 1  # uses, sales, ..., reserve, payouts, refund
    assert "invoice:1" not in {l.idempotency_key for l in s.lines}


def test_the_co_owner_sees_only_her_share(worked):
    s = statement(worked, creator=CHLOE)
    assert s.opening == Balances()
    assert [(x.licence_id, x.gross, x.commission, x.net, x.co_owned) for x in s.sales] == [
        (15, 20_000, 4_000, 4_800, True)
    ]
    assert [(x.licence_id, x.gross, x.commission, x.net, x.co_owned) for x in s.uses] == [(14, 1_001, 200, 240, True)]
    assert s.closing == Balances(payable=5_040)


def test_quiet_periods_unknown_currencies_and_the_next_month(worked):
    november = statement(worked, start=NOV, end=DEC)
    assert november.opening == Balances(payable=800, reserve=3_000, recoverable=38_000)
    assert november.closing == Balances(payable=1_600, reserve=3_000, recoverable=38_000)
    assert statement(worked, start=DEC, end=datetime(2027, 1, 1, tzinfo=UTC)).lines == ()
    euro = statement(worked, currency="EUR")
    assert (euro.opening, euro.closing, euro.lines) == (Balances(), Balances(), ())
    with pytest.raises(LedgerError):
        statement(worked, start=NOV, end=OCT)
    with worked.engine.connect() as conn:
        assert months_with_activity(conn, AVA) == [
            ActivePeriod("2026-11", "USD"),
            ActivePeriod("2026-10", "USD"),
            ActivePeriod("2026-09", "USD"),
        ]
        assert months_with_activity(conn, CHLOE) == [ActivePeriod("2026-10", "USD")]
        assert months_with_activity(conn, 99) == []


def test_a_drifted_balance_row_is_a_mismatch_not_a_wrong_statement(worked):
    # ledger_balance is the one mutable table; a bug that moved it must not go unnoticed
    with worked.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ledger_balance SET amount = amount - 1 WHERE account_id = "
                "(SELECT id FROM ledger_account WHERE code = 'creator:1:payable:USD')"
            )
        )
    with pytest.raises(StatementMismatch):
        statement(worked)
