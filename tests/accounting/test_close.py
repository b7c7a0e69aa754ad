"""Closing a month: the worked month's close report, refusals, the lock on both
databases (a late webhook and a usage report into a closed month), corrections.

The worked month (October 2025), in minor units:

  15 Oct  licence fee 100.00 USD   Stripe fee 3.20    commission 20.00  Ben 56.00   Chloe 24.00
  16 Oct  licence fee 500.00 USD   Stripe fee 14.80   commission 100.00 Ben 280.00  Chloe 120.00
  20 Oct  4 renders × 5.00 EUR     (brand receivable) commission 4.00   Ben 11.20   Chloe 4.80
  28 Oct  payouts: Ben 300.00 USD, Chloe 140.00 USD, Ben 10.00 USD (reversed on both sides on 29 Oct)

so at the end of October: Stripe balance 142.00 USD (= the emulator's), fees 18.00,
commission 120.00 USD + 4.00 EUR, Ben owed 36.00 USD + 11.20 EUR, Chloe 4.00 USD + 4.80 EUR,
Lumen (brand 2) owes 20.00 EUR.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.accounting import close as closing
from app.accounting.models import PeriodClose
from app.accounting.periods import parse_period
from app.books import chart, statements
from app.db import Database
from app.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from app.people.actors import actor_for
from app.people.models import User
from ledger import Ledger, reports

from .books import at
from .test_reconciliation import PERIOD, clean_month, cli, injected_month

FAY = "fay@books.example"


def actor(books, email: str = FAY):
    with provided(Database, books.app).unit_of_work() as uow:
        user = uow.session.exec(select(User).where(User.email == email)).one()
        return actor_for(uow, user, user_agent="pytest")


def close(books, reason=None, who: str = FAY, period: str = PERIOD):
    closer = actor(books, who)
    with provided(Database, books.app).unit_of_work() as uow:
        row = closing.close_period(uow, closer, provided(PaymentGateway, books.app), books.now(), period, reason)
        uow.commit()
        uow.session.expunge(row)
        return row


def stored(books) -> tuple[int, int]:
    return (
        books.rows("SELECT COUNT(*) FROM accounting_period_close")[0][0],
        books.rows("SELECT COUNT(*) FROM ledger_closed_period")[0][0],
    )


def worked_month(books):
    ben, chloe = books.users["ben"], books.users["chloe"]
    books.at(at(2025, 10, 15))
    books.sale(10_000)
    books.at(at(2025, 10, 16))
    books.sale(50_000)
    books.at(at(2025, 10, 20))
    used = books.usage("render-1", 4)
    assert used.status_code == 200, used.get_json()
    books.at(at(2025, 10, 28))
    books.pay_out(1, ben, 30_000, period=PERIOD)
    books.pay_out(2, chloe, 14_000, period=PERIOD)
    third = books.pay_out(3, ben, 1_000, period=PERIOD)
    books.at(at(2025, 10, 29))
    books.reverse_payout(third)


def test_worked_month_close_report_shows_exactly_those_figures(books_any_db):
    books = books_any_db
    worked_month(books)
    ben, chloe = books.users["ben"], books.users["chloe"]
    books.at(at(2025, 11, 2, 9, 30))
    row = close(books)

    expected = {
        ("platform:stripe:USD", 14_200),
        ("platform:fees:stripe:USD", 1_800),
        ("platform:revenue:commission:USD", -12_000),
        (chart.creator_payable(ben, "USD"), -3_600),
        (chart.creator_payable(chloe, "USD"), -400),
        (chart.brand_receivable(2, "EUR"), 2_000),
        ("platform:revenue:commission:EUR", -400),
        (chart.creator_payable(ben, "EUR"), -1_120),
        (chart.creator_payable(chloe, "EUR"), -480),
    }
    tb = row.trial_balance
    assert {(r["account"], r["closing"]) for r in tb["rows"]} == expected
    assert all(r["opening"] == 0 and r["movement"] == r["closing"] for r in tb["rows"])
    assert all((r["debit"], r["credit"]) == (max(r["closing"], 0), max(-r["closing"], 0)) for r in tb["rows"])
    assert tb["totals"] == {"EUR": {"debit": 2_000, "credit": 2_000}, "USD": {"debit": 16_000, "credit": 16_000}}
    assert tb["balanced"] is True and tb["before"].startswith("2025-11-01T00:00:00")
    assert all(type(r["closing"]) is int for r in tb["rows"])
    # the Stripe balance in the books is Stripe's own
    assert books.world.emulator.available_balance("usd") == 14_200

    assert (row.period, row.closed_by, row.override_reason, row.unmatched_count) == (PERIOD, FAY, None, 0)
    assert row.closed_at == at(2025, 11, 2, 9, 30)
    assert (row.entry_count, row.posting_count) == (7, 22)  # 2 sales, 1 use, 3 payouts, 1 reversal
    summary = row.reconciliation["summary"]
    assert {s: c["matched"] for s, c in summary.items()} == {"transfers": 3, "sales": 2, "balance": 3}
    assert row.reconciliation["unmatched"] == [] and row.reconciliation["unmatched_count"] == 0

    # The same report read back, and the lock in the ledger.
    fay = actor(books)
    with provided(Database, books.app).unit_of_work() as uow:
        again = closing.close_report(uow, fay, PERIOD)
        uow.session.expunge(again)
    assert again.trial_balance == tb and again.ledger_period_id is not None
    audit = books.rows("SELECT action, object_id FROM mk_audit_event WHERE action = 'period.close'")
    assert audit == [("period.close", again.id)]
    assert books.rows("SELECT name, closed_by FROM ledger_closed_period") == [(PERIOD, FAY)]

    # The creators' statements of the month show the same figures, to the cent.
    start, end = at(2025, 10, 1), at(2025, 11, 1)
    with provided(Database, books.app).engine.connect() as conn:
        ben_usd = statements.creator_statement(conn, ben, "USD", start, end)
        chloe_usd = statements.creator_statement(conn, chloe, "USD", start, end)
        ben_eur = statements.creator_statement(conn, ben, "EUR", start, end)
    assert ben_usd.opening == statements.Balances() and ben_usd.closing == statements.Balances(payable=3_600)
    assert [(s.count, s.gross, s.commission, s.net, s.co_owned) for s in ben_usd.sales] == [
        (1, 10_000, 2_000, 5_600, True),
        (1, 50_000, 10_000, 28_000, True),
    ]
    assert ben_usd.section_total("payouts").payable == -30_000  # 30,000 + 1,000 paid, the 1,000 reversed
    assert [line.net for line in ben_usd.section("payouts")] == [-30_000, -1_000, 1_000]
    assert chloe_usd.closing.payable == 400 and chloe_usd.section_total("sales").payable == 14_400
    assert [(u.count, u.gross, u.commission, u.net) for u in ben_eur.uses] == [(1, 2_000, 400, 1_120)]
    assert ben_eur.closing.payable == 1_120


def test_close_is_refused_when_unreconciled_and_accepted_with_a_reason(books):
    injected_month(books)
    books.at(at(2025, 11, 2))
    refused = cli(books, "close-period", "--period", PERIOD, "--by", FAY)
    assert refused.exit_code == 1, refused.output
    assert "not reconciled: 6 unmatched" in refused.output
    blank = cli(books, "close-period", "--period", PERIOD, "--by", FAY, "--override-reason", "   ")
    assert blank.exit_code == 1 and stored(books) == (0, 0)
    assert books.rows("SELECT COUNT(*) FROM mk_audit_event WHERE action = 'period.close'") == [(0,)]

    accepted = cli(
        books,
        "close-period",
        "--period",
        PERIOD,
        "--by",
        FAY,
        "--override-reason",
        "Item 2 transfer re-sent in November; items 3/4 disputed with Stripe",
    )
    assert accepted.exit_code == 0, accepted.output
    assert "6 unmatched (override: Item 2 transfer" in accepted.output
    with provided(Database, books.app).unit_of_work() as uow:
        row = uow.session.exec(select(PeriodClose)).one()
        uow.session.expunge(row)
    assert row.override_reason.startswith("Item 2 transfer re-sent") and row.unmatched_count == 6
    assert {(r["section"], r["category"]) for r in row.reconciliation["unmatched"]} == {
        ("transfers", "missing_in_stripe"),
        ("transfers", "amount_mismatch"),
        ("transfers", "currency_mismatch"),
        ("transfers", "missing_in_ledger"),
        ("balance", "amount_mismatch"),
        ("balance", "missing_in_ledger"),
    }
    [(details,)] = books.rows("SELECT details FROM mk_audit_event WHERE action = 'period.close'")
    assert "Item 2 transfer re-sent" in str(details)


def test_close_period_cli_bad_input(books):
    books.at(at(2025, 11, 2))
    for args in (
        ["--period", "2025-13", "--by", FAY],
        ["--period", PERIOD, "--by", "nobody@example.com"],
        ["--period", PERIOD, "--by", "ben@creators.example"],
        ["--period", PERIOD],
    ):
        result = cli(books, "close-period", *args)
        assert result.exit_code == 2, (args, result.output)
    assert stored(books) == (0, 0)


def test_close_refuses_a_month_not_ended_and_a_second_close(books):
    clean_month(books)
    books.at(at(2025, 10, 31, 23, 59))
    with pytest.raises(Conflict, match="has not ended"):
        close(books)
    books.at(at(2025, 11, 1, 0, 0))
    close(books)
    with pytest.raises(Conflict, match="already closed"):
        close(books, reason="again")
    with pytest.raises(Forbidden):
        close(books, who="ben@creators.example", period="2025-09")
    with pytest.raises(ValidationProblem):
        close(books, period="2025/10")
    assert stored(books) == (1, 1)


def test_posting_into_a_closed_period_is_refused(books_any_db):
    """A use reported with a clock inside the closed month is refused clearly and changes
    nothing.  (A payment whose webhook arrives after its month was closed is booked at the
    first open moment instead: tests/accounting/test_late_money.py.)"""
    books = books_any_db
    books.at(at(2025, 10, 30))
    books.sale(20_000)
    books.at(at(2025, 11, 2))
    close(books)
    before = books.rows("SELECT COUNT(*) FROM ledger_entry")

    books.at(at(2025, 10, 31, 18))  # a clock inside the closed month
    usage_rows = books.rows("SELECT COUNT(*) FROM mt_usage_event")
    refused = books.usage("late-render", 2)
    assert refused.status_code == 409, refused.get_json()
    body = refused.get_json()
    assert body["code"] == "period_closed" and "closed accounting period" in body["detail"]
    assert books.rows("SELECT COUNT(*) FROM mt_usage_event") == usage_rows
    assert books.rows("SELECT COUNT(*) FROM ledger_entry") == before


def test_a_correction_after_close_lands_in_the_next_open_period(books):
    clean_month(books)
    payout_seq = books.entry_seq("payout:item:1")
    sale_seq = books.rows("SELECT seq FROM ledger_entry WHERE kind = 'licence.sale'")[0][0]
    ben_payable = chart.creator_payable(books.users["ben"], "USD")
    books.at(at(2025, 11, 2))
    row = close(books)
    ledger, fay, ben = provided(Ledger, books.app), actor(books), actor(books, "ben@creators.example")
    with provided(Database, books.app).unit_of_work() as uow:
        with pytest.raises(Conflict, match="below zero"):  # part of Ben's share of the sale was paid out
            closing.correct_entry(uow, fay, ledger, books.now(), sale_seq, "sale booked twice")
    with provided(Database, books.app).unit_of_work() as uow:
        posted = closing.correct_entry(uow, fay, ledger, books.now(), payout_seq, "transfer returned by the bank")
        uow.commit()
    assert posted.effective_at == at(2025, 11, 2) and posted.reverses_seq == payout_seq
    assert (
        posted.idempotency_key == f"correction:{payout_seq}"
        and posted.meta["reason"] == "transfer returned by the bank"
    )
    with provided(Database, books.app).engine.connect() as conn:
        october = reports.trial_balance(conn, before=parse_period(PERIOD).ends_at)
        november = reports.trial_balance(conn, before=parse_period("2025-11").ends_at)
    # October's figures are exactly those of its close report; the correction is November's.
    assert {(r.code, r.amount) for r in october.rows if r.amount} == {
        (r["account"], r["closing"]) for r in row.trial_balance["rows"]
    }
    by_code = {r.code: r.amount for r in october.rows}
    assert {r.code: r.amount for r in november.rows}[ben_payable] == by_code[ben_payable] - 10_000
    [(_action, object_id)] = books.rows(
        "SELECT action, object_id FROM mk_audit_event WHERE action = 'ledger.correction'"
    )
    assert object_id == payout_seq

    with provided(Database, books.app).unit_of_work() as uow:
        with pytest.raises(Conflict, match="already been reversed"):
            closing.correct_entry(uow, fay, ledger, books.now(), payout_seq, "again")
        with pytest.raises(Conflict, match="itself a reversal"):
            closing.correct_entry(uow, fay, ledger, books.now(), posted.seq, "undo")
        with pytest.raises(NotFound):
            closing.correct_entry(uow, fay, ledger, books.now(), 10_000, "nothing")
        with pytest.raises(ValidationProblem):
            closing.correct_entry(uow, fay, ledger, books.now(), payout_seq, "  ")
        with pytest.raises(Forbidden):
            closing.correct_entry(uow, ben, ledger, books.now(), payout_seq, "x")


def test_a_correction_made_while_the_clock_is_inside_a_closed_month_moves_to_its_end(books):
    clean_month(books)
    payout_seq = books.entry_seq("payout:item:1")
    books.at(at(2025, 11, 2))
    close(books)
    books.at(at(2025, 10, 31, 18))
    fay = actor(books)
    with provided(Database, books.app).unit_of_work() as uow:
        assert closing.first_open_moment(uow, books.now()) == at(2025, 11, 1, 0)
        assert closing.first_open_moment(uow, at(2025, 9, 30)) == at(2025, 9, 30)
        posted = closing.correct_entry(
            uow, fay, provided(Ledger, books.app), books.now(), payout_seq, "transfer returned by the bank"
        )
        uow.commit()
    assert posted.effective_at == at(2025, 11, 1, 0)
