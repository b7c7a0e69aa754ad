"""Advances (issue #14.3): a brand pays a minimum guarantee with the licence fee, its
metered uses recoup it before anything is billed, and its creators earn what is left of
it when the licence ends.

  15 Oct  licence A: fee 1,000.00 + advance 500.00 USD through Checkout (one charge)
  16 Oct  8 renders × 5.00 = 40.00: all recouped (460.00 left), nothing billed
  17 Oct  95 renders = 475.00: 460.00 recouped, 15.00 billed to Lumen's receivable
          licence B: fee 10.00 + advance 200.00; 3 renders = 15.00 recouped (185.00 left)
   1 Nov  both licences end: B's 185.00 is earned — commission 37.00, Ben 103.60, Chloe 44.40;
          A has nothing left
"""

from __future__ import annotations

from app.accounting.periods import parse_period
from app.books import chart
from app.db import Database
from app.kit.registry import provided
from app.marketplace import expiry
from app.marketplace.models import Licence
from app.payments.usage_invoices import usage_in_period
from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator
from tests.accounting.books import Books, at
from tests.payments.harness import pay_world, seeded_sqlite

BRAND = 2  # Lumen Studios (eli)


def with_advance(books, fee: int, advance: int) -> int:
    licence_id = books.world.signed_licence(like=3, fee=fee)  # Ben & Chloe's cameo, 5.00 per render
    with provided(Database, books.app).unit_of_work() as uow:
        uow.session.get(Licence, licence_id).advance_minor = advance  # the licence's terms, as offered
        uow.commit()
    books.world.pay(licence_id)
    assert books.world.deliver().failed == []
    return licence_id


def advance_left(books) -> int:
    return -books.world.balance(chart.brand_advance(BRAND, "USD"))


def test_uses_recoup_the_advance_first_and_the_rest_is_earned_at_the_end(pay_world):
    books = Books(pay_world)
    ben, chloe = books.users["ben"], books.users["chloe"]
    books.at(at(2025, 10, 15))
    first = with_advance(books, 100_000, 50_000)
    payment = books.world.payment(first)
    assert (payment.amount, payment.status) == (150_000, "paid") and books.world.licence(first).status == "active"
    assert advance_left(books) == 50_000
    assert books.world.balance(chart.creator_payable(ben, "USD")) == -56_000  # the fee's split only

    books.at(at(2025, 10, 16))
    assert books.usage("a-1", 8, licence_id=first).get_json()["accepted"] == 1
    assert advance_left(books) == 46_000 and books.world.balance(chart.brand_receivable(BRAND, "USD")) == 0
    books.at(at(2025, 10, 17))
    assert books.usage("a-2", 95, licence_id=first).get_json()["accepted"] == 1
    assert advance_left(books) == 0
    assert books.world.balance(chart.brand_receivable(BRAND, "USD")) == 1_500
    october = parse_period("2025-10")
    with provided(Database, books.app).unit_of_work() as uow:  # only what the advance did not cover is invoiced
        assert usage_in_period(uow, BRAND, "USD", october.starts_at, october.ends_at) == 1_500

    second = with_advance(books, 1_000, 20_000)
    assert books.usage("b-1", 3, licence_id=second).get_json()["accepted"] == 1
    assert advance_left(books) == 18_500
    ben_before = books.world.balance(chart.creator_payable(ben, "USD"))
    chloe_before = books.world.balance(chart.creator_payable(chloe, "USD"))
    commission_before = books.world.balance(chart.commission_revenue("USD"))

    books.at(at(2025, 11, 1, 0, 1))
    with books.app.app_context():
        ended = {e.licence_id: e.status for e in expiry.end_due_licences_job()}
    assert ended[first] == ended[second] == "expired"
    assert advance_left(books) == 0
    assert books.world.balance(chart.creator_payable(ben, "USD")) - ben_before == -10_360
    assert books.world.balance(chart.creator_payable(chloe, "USD")) - chloe_before == -4_440
    assert books.world.balance(chart.commission_revenue("USD")) - commission_before == -3_700
    assert books.world.entries("advance.earned") == [(f"advance-earned:{second}", "advance.earned")]
    with books.app.app_context():
        assert expiry.end_due_licences_job() == []  # once
