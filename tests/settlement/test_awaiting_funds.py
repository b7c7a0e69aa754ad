"""Funds that are not available yet (issue #14.10).

A licence fee of 1,000.00 USD paid by card at 10:00 on 31 October is pending on Stripe
until 2 November (two days, as on Stripe).  The 2026-10 run at 06:00 on 1 November
owes Ben 560.00 and Chloe 240.00 from it, and the platform has nothing available: it
posts nothing and calls Stripe for no transfer; both items wait for funds, with the
reason in plain words on the settlement page and in the creators' statements.  When
the funds are available, the scheduler's ``settlement-awaiting-funds`` job pays them —
once, with the keys they were planned with (Stripe never saw them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from app import scheduler
from app.db import Database
from app.kit.registry import provided
from app.people.actors import actor_for
from app.people.models import User
from app.settlement.service import payout_key
from app.statements import exports
from app.statements import service as statements
from tests.accounting.books import Books

from .test_cli_pages_and_schedule import login
from .test_month_end_end_to_end import onboard
from .world import OCT

WAITING = (
    "Waiting for funds: the platform's Stripe balance has 0.00 USD available and 970.70 USD pending, "
    "not enough for {} USD yet (card payments take a few days to become available). "
    "It is paid automatically when they are."
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def notes(w, creator_id: int) -> list[str]:
    with provided(Database, w.app).unit_of_work() as uow:
        fay = actor_for(uow, uow.session.exec(select(User).where(User.email == "fay@books.example")).one())
        return exports.notes(statements.creator_statement(uow, fay, w.now, creator_id, "2026-10", "USD"))


def test_payouts_wait_for_pending_funds_and_are_paid_when_they_are_available(world):
    w = world
    ben, chloe = w.pay.users["ben"], w.pay.users["chloe"]
    w.at(utc(2026, 10, 1))
    onboard(w, ben)
    onboard(w, chloe)
    books = Books(w.pay)
    books.at(utc(2026, 10, 31, 10))
    books.sale(100_000)

    report = w.settle(OCT, now=utc(2026, 11, 1, 6))
    items = {cid: item for (cid, _), item in w.items(OCT).items()}
    assert {cid: (i.status, i.amount, i.entry_seq) for cid, i in items.items()} == {
        ben: ("awaiting_funds", 56_000, None),
        chloe: ("awaiting_funds", 24_000, None),
    }
    assert items[ben].last_error == WAITING.format("560.00")
    assert report.run.status == "incomplete" and not w.transfer_writes() and not w.entries("payout.transfer")
    assert (w.payable(ben), w.payable(chloe)) == (56_000, 24_000)  # still theirs, still payable

    said = notes(w, ben)
    assert said[0] == "The 2026-10 settlement run is paying 560.00 USD, which is waiting for funds. " + WAITING.format(
        "560.00"
    )
    assert not any("carried forward" in note for note in said)  # this run pays it: it is not carried
    client = w.app.test_client()
    login(client, "fay@books.example")
    page = client.get("/staff/settlements/2026-10").get_data(as_text=True)
    assert "awaiting funds" in page and "970.70 USD pending" in page

    cli = w.cli("--period", "2026-10", now=utc(2026, 11, 1, 7))
    assert cli.exit_code == 1 and "wait for the platform's Stripe funds" in cli.output, cli.output
    assert not w.transfer_writes()

    w.at(utc(2026, 11, 2, 11))  # pending until 10:00 on 2 November
    scheduler.build_scheduler(w.app)
    try:
        scheduler.awaiting_funds_job()
    finally:
        scheduler._context.pop("app", None)
    items = {cid: item for (cid, _), item in w.items(OCT).items()}
    assert {cid: (i.status, i.attempt) for cid, i in items.items()} == {ben: ("paid", 1), chloe: ("paid", 1)}
    assert [t["metadata"]["ledger_key"] for t in sorted(w.transfers(), key=lambda t: t["amount"])] == [
        payout_key(items[chloe].id),
        payout_key(items[ben].id),
    ]
    assert w.run_row(OCT).status == "completed" and (w.payable(ben), w.payable(chloe)) == (0, 0)
    assert notes(w, ben)[0].startswith("The 2026-10 settlement run paid 560.00 USD to your Stripe account")
    w.assert_one_transfer_per_paid_item(OCT)
    w.assert_books_verify()
