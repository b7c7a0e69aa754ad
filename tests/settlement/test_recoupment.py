"""Recoupment (issue #14.3): a refund after the creator was paid leaves a recoverable that
the next settlement runs net against the creator's later earnings — per currency, oldest
refund first, never below zero, never another creator's money.

  Oct  5  licence fee 1,000.00 USD: Ben 560.00, Chloe 240.00 (cameo 3, 70/30, 20 % commission)
  Nov  1  the 2026-10 run pays Ben 560.00 and Chloe 240.00
  Nov  5  500.00 refunded: Ben owes 280.00, Chloe 120.00 (their payables are empty)
  Nov  6  100.00 refunded: Ben owes 56.00 more, Chloe 24.00 more
  Nov 20  Ben earns 300.00, Chloe 50.00, Dan 200.00
  Dec  1  the 2026-11 run recovers 300.00 of Ben's 336.00 (all 280.00 of the first refund,
          20.00 of the second) and 50.00 of Chloe's 144.00: neither is paid; Dan is paid 200.00
  Dec 10  Ben earns 100.00
  Jan  1  the 2026-12 run recovers Ben's last 36.00 and pays him 64.00
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from app.books import chart
from app.db import Database
from app.kit.registry import provided
from app.people.actors import actor_for
from app.people.models import User
from app.settlement.planning import Period
from app.statements import exports
from app.statements import service as statements
from tests.accounting.books import Books

from .test_month_end_end_to_end import onboard
from .world import AFTER_NOV, AFTER_OCT, NOV, OCT

DEC = Period.parse("2026-12")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def statement_rows(w, creator_id: int, period: str):
    with provided(Database, w.app).unit_of_work() as uow:
        fay = actor_for(uow, uow.session.exec(select(User).where(User.email == "fay@books.example")).one())
        cs = statements.creator_statement(uow, fay, w.now, creator_id, period, "USD")
    return cs, exports.rows(cs)


def test_refunds_after_payout_are_recovered_from_later_earnings_oldest_first(world):
    w = world
    w.fund()
    ben, chloe = w.pay.users["ben"], w.pay.users["chloe"]
    dan = w.creator("dan")
    w.at(utc(2026, 10, 1))
    onboard(w, ben)
    onboard(w, chloe)
    books = Books(w.pay)
    books.at(utc(2026, 10, 5, 12))
    sale = books.sale(100_000)
    w.settle(OCT, now=AFTER_OCT)
    assert (w.payable(ben), w.payable(chloe)) == (0, 0)

    intent = w.pay.payment(sale).payment_intent_id
    for day, amount in ((5, 50_000), (6, 10_000)):
        books.at(utc(2026, 11, day, 12))
        w.pay.gateway.refund(intent, idempotency_key=f"refund-{day}", amount=amount)
        assert books.world.deliver().failed == []
    recoverable = {c: w.balance(chart.creator_recoverable(c, "USD")) for c in (ben, chloe)}
    assert recoverable == {ben: 28_000 + 5_600, chloe: 12_000 + 2_400}

    licence = w.licence(holdback_days=0)
    for creator, amount in ((ben, 300_00), (chloe, 50_00), (dan, 200_00)):
        w.earn(creator, amount, at=utc(2026, 11, 20), licence_id=licence)
    w.settle(NOV, now=AFTER_NOV)
    items = {cid: i for (cid, _), i in w.items(NOV).items()}
    assert {cid: (i.payable, i.recovered, i.amount, i.status) for cid, i in items.items()} == {
        ben: (30_000, 30_000, 0, "below_minimum"),
        chloe: (5_000, 5_000, 0, "below_minimum"),
        dan: (20_000, 0, 20_000, "paid"),  # never another creator's money
    }
    assert (w.payable(ben), w.payable(chloe), w.payable(dan)) == (0, 0, 0)  # never below zero
    assert w.balance(chart.creator_recoverable(ben, "USD")) == 3_600
    assert w.balance(chart.creator_recoverable(chloe, "USD")) == 9_400
    recoveries = w.entries("refund.recovered")
    assert len(recoveries) == 3  # Ben: both refunds (oldest first), Chloe: the first

    cs, rows = statement_rows(w, ben, "2026-11")
    recovered = [r for r in rows if "Recovered from earlier refund" in r.description]
    assert [(r.net, r.recoverable) for r in recovered] == [(-28_000, -28_000), (-2_000, -2_000)]
    assert all("by the 2026-11 settlement run" in r.description for r in recovered)
    assert "Recovered from earlier refund of 2026-11-05" in recovered[0].description
    assert (cs.statement.closing.payable, cs.statement.closing.recoverable) == (0, 3_600)
    said = exports.notes(cs)
    assert "It recovered 300.00 USD you owed after an earlier refund" in said[0]
    assert any(note.startswith("You owe 36.00 USD for refunds") for note in said)

    w.earn(ben, 100_00, at=utc(2026, 12, 10), licence_id=licence)
    w.settle(DEC, now=utc(2027, 1, 1, 6))
    item = w.items(DEC)[(ben, "USD")]
    assert (item.recovered, item.amount, item.status) == (3_600, 6_400, "paid")
    assert w.balance(chart.creator_recoverable(ben, "USD")) == 0
    [transfer] = [t for t in w.transfers() if t["transfer_group"] == "settlement-2026-12"]
    assert transfer["amount"] == 6_400
    w.assert_books_verify()
