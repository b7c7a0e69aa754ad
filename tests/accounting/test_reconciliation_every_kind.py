"""Reconciliation understands every entry kind (issue #14.11), on SQLite and PostgreSQL.

A month of everything that moves cash, through the real flows against the emulator:

  Oct  5  licence fee 1,000.00 USD (Ben 560.00, Chloe 240.00; Stripe fee 29.30)
  Oct 10  100.00 of it refunded
  Oct 12  licence fee 500.00 USD, disputed on Oct 14 (dispute fee 15.00)
  Oct 30  licence fee 200.00 USD, still pending at the run (card funds take two days)
  Nov  1  the 2026-10 run, without a look at the balance (Stripe's balance endpoint is
          down): Ben's 616.00 goes through; Stripe refuses Chloe's 264.00
          (balance_insufficient: 224.90 available): it waits for funds, its payout entry
          reversed — money that never moved
  Nov  3  the funds are available: the scheduler pays Chloe again (attempt 2)
  Nov 10  Stripe reverses 30.00 of Ben's transfer (partial), Nov 12 all of Chloe's

Both months then reconcile with zero differences and close without an override: a
partial reversal counts against its transfer, Stripe's ``transfer_refund`` is what the
ledger calls a reversed payout, and the failed first attempts are not cash.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.accounting.reconciliation import reconcile
from app.db import Database
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from app.people.actors import SYSTEM
from app.settlement.jobs import pay_awaiting_funds
from app.settlement.planning import Period
from tests.accounting.books import Books
from tests.settlement.conftest import world_any_db  # a settlement world on both databases
from tests.settlement.test_month_end_end_to_end import onboard

OCT, NOV = Period.parse("2026-10"), Period.parse("2026-11")
FAY = "fay@books.example"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def reconciled(world, period: Period):
    with provided(Database, world.app).unit_of_work() as uow:
        return reconcile(uow, SYSTEM, provided(PaymentGateway, world.app), period)


def cli(world, *args: str):
    return world.app.test_cli_runner().invoke(args=list(args))


def test_refunds_disputes_failed_retried_and_reversed_transfers_all_reconcile(world_any_db):
    w = world_any_db
    books = Books(w.pay)
    ben, chloe = w.pay.users["ben"], w.pay.users["chloe"]
    w.at(utc(2026, 10, 1, 9))
    onboard(w, ben)
    onboard(w, chloe)
    books.at(utc(2026, 10, 5, 12))
    first = books.sale(100_000)  # cameo 3: Ben 70 %, Chloe 30 %, 20 % commission
    books.at(utc(2026, 10, 10, 12))
    w.pay.gateway.refund(w.pay.payment(first).payment_intent_id, idempotency_key="refund-1", amount=10_000)
    assert books.world.deliver().failed == []
    books.at(utc(2026, 10, 12, 12))
    second = books.sale(50_000)
    books.at(utc(2026, 10, 14, 12))
    w.emulator.open_dispute(w.pay.payment(second).payment_intent_id)
    assert books.world.deliver().failed == []
    books.at(utc(2026, 10, 30, 20))
    books.sale(20_000)
    # Ben: 560.00 − 56.00 refunded + 280.00 − 280.00 disputed + 112.00 = 616.00; Chloe: 240.00 − 24.00 + 48.00 = 264.00
    w.emulator.inject_fault("error_500", method="GET", path_prefix="/v1/balance", count=50)
    run = w.settle(OCT, now=utc(2026, 11, 1, 6))
    items = {cid: i for (cid, _), i in w.items(OCT).items()}
    assert {cid: (i.status, i.amount) for cid, i in items.items()} == {
        ben: ("paid", 61_600),
        chloe: ("awaiting_funds", 26_400),
    }
    assert run.run.status == "incomplete" and "Waiting for funds" in items[chloe].last_error
    assert len(w.transfers()) == 1 and (w.payable(ben), w.payable(chloe)) == (0, 26_400)  # Chloe's entry reversed
    w.emulator.clear_faults()

    w.at(utc(2026, 11, 3, 9))  # the 30 October sale's funds are available
    with w.app.app_context():
        pay_awaiting_funds()
    items = {cid: i for (cid, _), i in w.items(OCT).items()}
    assert {cid: (i.status, i.attempt) for cid, i in items.items()} == {ben: ("paid", 1), chloe: ("paid", 2)}
    assert w.run_row(OCT).status == "completed"

    books.at(utc(2026, 11, 10, 12))
    w.pay.gateway.reverse_transfer(items[ben].transfer_id, idempotency_key="reverse-ben", amount=3_000)
    books.at(utc(2026, 11, 12, 12))
    w.pay.gateway.reverse_transfer(items[chloe].transfer_id, idempotency_key="reverse-chloe")
    assert books.world.deliver().failed == []
    assert (w.payable(ben), w.payable(chloe)) == (3_000, 26_400)

    for period in (OCT, NOV):
        result = reconciled(w, period)
        assert result.unmatched_count == 0, result.uniform(unmatched_only=True).to_dict("records")
    november = reconciled(w, NOV)
    transfers = november.sections["transfers"].set_index("match_key")
    ben_key = f"payout:item:{items[ben].id}"
    assert (transfers.loc[ben_key, "ledger_net"], transfers.loc[ben_key, "stripe_net"]) == (58_600, 58_600)
    assert transfers.loc[ben_key, "ledger_reversed"] == 3_000
    balance = november.sections["balance"].set_index("match_key")
    assert balance.loc["transfer:USD", "ledger_net"] == balance.loc["transfer:USD", "stripe_net"] == -88_000
    assert balance.loc["transfer_refund:USD", "ledger_net"] == 3_000 + 26_400  # not "other:USD"
    assert "other:USD" not in balance.index
    october = reconciled(w, OCT).sections["balance"].set_index("match_key")
    assert set(october.index) == {"charge:USD", "refund:USD", "adjustment:USD"}

    w.at(utc(2026, 12, 2, 9))
    for period in ("2026-10", "2026-11"):
        closed = cli(w, "close-period", "--period", period, "--by", FAY)
        assert closed.exit_code == 0, closed.output
    assert cli(w, "ledger", "verify").exit_code == 0
