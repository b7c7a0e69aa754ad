"""Month end, end to end, with nothing stood in: a licence sale paid through Checkout,
the real settlement run paying one co-owner and holding the other, then reconciliation
and the close of both months — every figure traced from the sale to the transfer."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

from sqlmodel import select

from app.db import Database
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from app.payments.models import ConnectAccount
from app.people.actors import actor_for
from app.people.models import User
from app.statements import service as statements
from tests.accounting.books import Books

from .world import AFTER_OCT, OCT

FAY = "fay@books.example"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def onboard(world, creator_id: int) -> str:
    now = world.now
    account = provided(PaymentGateway, world.app).create_connected_account(
        email=f"creator-{creator_id}@example.com", country="US", idempotency_key=f"e2e-account-{creator_id}"
    )
    world.emulator.complete_onboarding(account.id)
    with provided(Database, world.app).unit_of_work() as uow:
        uow.session.add(
            ConnectAccount(
                creator_id=creator_id,
                stripe_account_id=account.id,
                country="US",
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                requirements_due=[],
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    return account.id


def statement_says(world, creator_id: int) -> str | None:
    """What the creator's October statement says about the settlement run (read as the accountant)."""
    with provided(Database, world.app).unit_of_work() as uow:
        fay = actor_for(uow, uow.session.exec(select(User).where(User.email == FAY)).one())
        return statements.creator_statement(uow, fay, world.now, creator_id, "2026-10", "USD").settlement


def cli(world, *args: str):
    return world.app.test_cli_runner().invoke(args=list(args))


def test_a_sale_is_settled_reconciled_and_both_months_close(world):
    books = Books(world.pay)
    ben, chloe = world.pay.users["ben"], world.pay.users["chloe"]
    world.at(utc(2026, 10, 10, 12))
    ben_account = onboard(world, ben)  # Chloe never connects Stripe: she is held
    books.at(utc(2026, 10, 15, 12))
    licence_id = books.sale(100_000)  # cameo 3 is Ben's and Chloe's, 70/30; 20 % commission
    with provided(Database, world.app).engine.connect() as conn:
        holdback = conn.exec_driver_sql(f"SELECT holdback_days FROM mk_licence WHERE id = {licence_id}").scalar()
    assert holdback < 17  # the sale is out of its holdback window at the end of October

    run = world.settle(OCT, now=AFTER_OCT)
    items = world.items(OCT)
    assert {(cid, i.status, i.amount) for (cid, _), i in items.items()} == {
        (ben, "paid", 56_000),
        (chloe, "held", 24_000),
    }
    [transfer] = list(world.emulator.objects("transfer"))
    assert (transfer["amount"], transfer["destination"], transfer["transfer_group"]) == (
        56_000,
        ben_account,
        "settlement-2026-10",
    )
    assert world.payable(ben) == 0 and world.payable(chloe) == 24_000
    assert run is not None
    assert (
        statement_says(world, ben) == f"The 2026-10 settlement run paid 560.00 USD to your Stripe account "
        f"(transfer {transfer['id']})."
    )
    assert statement_says(world, chloe).startswith("The 2026-10 settlement run held 240.00 USD: No Stripe account")

    world.at(utc(2026, 11, 2, 9))
    october = cli(world, "reconcile", "--period", "2026-10")
    assert october.exit_code == 0, october.output
    closed = cli(world, "close-period", "--period", "2026-10", "--by", FAY)
    assert closed.exit_code == 0, closed.output

    world.at(utc(2026, 12, 2, 9))
    november = cli(world, "reconcile", "--period", "2026-11")  # the payout was made on 1 November
    assert november.exit_code == 0, november.output
    transfers_row = next(line for line in november.output.splitlines() if line.startswith("transfers"))
    assert transfers_row.split()[1:] == ["1", "0", "0", "0", "0"] and "all matched" in november.output
    assert cli(world, "close-period", "--period", "2026-11", "--by", FAY).exit_code == 0
    with provided(Database, world.app).engine.connect() as conn:
        closes = conn.exec_driver_sql(
            "SELECT period, unmatched_count FROM accounting_period_close ORDER BY period"
        ).all()
    assert closes == [("2026-10", 0), ("2026-11", 0)]
    assert cli(world, "ledger", "verify").exit_code == 0
