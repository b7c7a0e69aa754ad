"""Reconciliation against the Stripe emulator (real SDK over HTTP), on SQLite and PostgreSQL.

The month is October 2025 (the emulator's clock starts on 2025-10-15).  Ben and Chloe
co-own demo licence 3's cameo (70/30); a licence fee of 1,000.00 USD pays them
560.00 and 240.00 and leaves 970.70 on the platform's Stripe balance (fee 29.30).
"""

from __future__ import annotations

from app.accounting.periods import parse_period
from app.accounting.reconciliation import reconcile
from app.db import Database
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from app.people.actors import SYSTEM

from .books import at

PERIOD = "2025-10"


def run(books):
    with provided(Database, books.app).unit_of_work() as uow:
        return reconcile(uow, SYSTEM, provided(PaymentGateway, books.app), PERIOD)


def by_category(result, section: str) -> dict[str, list[str]]:
    frame = result.sections[section]
    return {c: sorted(frame[frame["category"] == c]["match_key"]) for c in sorted(set(frame["category"]))}


def injected_month(books):
    """A sale, then payouts with one of each discrepancy, one clean and one reversed on both sides."""
    books.at(at(2025, 9, 30))
    books.world.emulator.add_platform_funds(500_000, "eur")  # September: outside the period
    books.at(at(2025, 10, 15))
    books.sale(100_000)
    ben, chloe = books.users["ben"], books.users["chloe"]
    books.at(at(2025, 10, 20))
    books.pay_out(1, ben, 10_000, period=PERIOD)  # clean
    books.pay_out(2, ben, 5_000, period=PERIOD, stripe=False)  # missing transfer
    books.pay_out(3, chloe, 7_000, period=PERIOD, stripe_amount=7_500)  # amount mismatch
    books.pay_out(4, chloe, 3_000, period=PERIOD, stripe_currency="EUR")  # currency mismatch
    books.pay_out(99, ben, 2_500, period=PERIOD, ledger=False, ledger_key=None)  # extra transfer
    reversed_payout = books.pay_out(5, ben, 1_000, period=PERIOD)
    books.at(at(2025, 10, 21))
    books.reverse_payout(reversed_payout)  # nets out
    return reversed_payout


def test_each_injected_discrepancy_is_found_and_nothing_else(books_any_db):
    books = books_any_db
    injected_month(books)
    result = run(books)
    transfers = by_category(result, "transfers")
    extra = list(transfers["missing_in_ledger"])
    assert len(extra) == 1 and extra[0].startswith("stripe:tr_")
    assert transfers == {
        "matched": ["payout:item:1", "payout:item:5"],
        "missing_in_stripe": ["payout:item:2"],
        "amount_mismatch": ["payout:item:3"],
        "currency_mismatch": ["payout:item:4"],
        "missing_in_ledger": extra,
    }
    frame = result.sections["transfers"].set_index("match_key")
    assert frame.loc["payout:item:3", "ledger_net"] == 7_000 and frame.loc["payout:item:3", "stripe_net"] == 7_500
    assert frame.loc["payout:item:3", "difference"] == 500
    assert (frame.loc["payout:item:4", "ledger_currency"], frame.loc["payout:item:4", "stripe_currency"]) == (
        "USD",
        "EUR",
    )
    assert frame.loc["payout:item:5", "ledger_net"] == 0 and frame.loc["payout:item:5", "stripe_net"] == 0
    assert (
        frame.loc["payout:item:5", "stripe_reversed"] == 1_000
        and frame.loc["payout:item:5", "ledger_reversed"] == 1_000
    )
    assert frame.loc["payout:item:2", "ledger_seq"] == books.entry_seq("payout:item:2")
    assert frame.loc[extra[0], "stripe_id"] == extra[0].removeprefix("stripe:")
    assert str(frame["ledger_net"].dtype) == "Int64" and str(frame["stripe_net"].dtype) == "Int64"

    assert by_category(result, "sales") == {"matched": [result.sections["sales"]["match_key"][0]]}
    sale = result.sections["sales"].iloc[0]
    assert (sale["ledger_gross"], sale["ledger_fee"], sale["stripe_gross"], sale["stripe_fee"]) == (
        100_000,
        2_930,
        100_000,
        2_930,
    )
    # The cash view sees the same differences, and only them.
    balance = result.sections["balance"].set_index("match_key")
    assert by_category(result, "balance") == {
        "matched": ["charge:USD", "transfer_refund:USD"],
        "amount_mismatch": ["transfer:USD"],
        "missing_in_ledger": ["transfer:EUR"],
    }
    assert balance.loc["transfer:USD", "ledger_net"] == -26_000 and balance.loc["transfer:USD", "stripe_net"] == -21_000
    assert balance.loc["transfer:EUR", "stripe_net"] == -3_000
    assert result.unmatched_count == 6 and not result.reconciled
    assert result.summary()["transfers"] == {
        "matched": 2,
        "missing_in_stripe": 1,
        "missing_in_ledger": 1,
        "amount_mismatch": 1,
        "currency_mismatch": 1,
    }


def clean_month(books):
    books.at(at(2025, 10, 15))
    books.sale(100_000)
    books.at(at(2025, 10, 20))
    books.pay_out(1, books.users["ben"], 10_000, period=PERIOD)
    reversed_payout = books.pay_out(2, books.users["chloe"], 2_000, period=PERIOD)
    books.reverse_payout(reversed_payout)


def test_a_clean_month_is_fully_matched(books_any_db):
    clean_month(books_any_db)
    result = run(books_any_db)
    assert result.reconciled and result.unmatched_count == 0
    assert result.summary() == {
        "transfers": {
            "matched": 2,
            "missing_in_stripe": 0,
            "missing_in_ledger": 0,
            "amount_mismatch": 0,
            "currency_mismatch": 0,
        },
        "sales": {
            "matched": 1,
            "missing_in_stripe": 0,
            "missing_in_ledger": 0,
            "amount_mismatch": 0,
            "currency_mismatch": 0,
        },
        "balance": {
            "matched": 3,
            "missing_in_stripe": 0,
            "missing_in_ledger": 0,
            "amount_mismatch": 0,
            "currency_mismatch": 0,
        },
    }
    # What the ledger says is on the Stripe balance is what Stripe says.
    assert books_any_db.world.balance("platform:stripe:USD") == books_any_db.world.emulator.available_balance("usd")


def test_a_payout_just_after_the_month_made_for_it_matches_in_both_months(books):
    """Scope: a payout made on 1 November for October is matched in October (by group) and
    in November (by date), never missing on one side."""
    books.at(at(2025, 10, 15))
    books.sale(100_000)
    books.at(at(2025, 11, 1, 0, 0))
    books.pay_out(1, books.users["ben"], 10_000, period=PERIOD)
    for period in (PERIOD, "2025-11"):
        with provided(Database, books.app).unit_of_work() as uow:
            result = reconcile(uow, SYSTEM, provided(PaymentGateway, books.app), parse_period(period))
        assert by_category(result, "transfers") == {"matched": ["payout:item:1"]}, period


def test_a_stripe_charge_without_a_sale_entry_is_missing_in_ledger(books):
    books.at(at(2025, 10, 15))
    books.world.emulator.add_platform_funds(20_000, "usd")
    result = run(books)
    [row] = result.sections["sales"].itertuples()
    assert row.category == "missing_in_ledger" and row.stripe_gross == 20_000 and row.match_key.startswith("ch_")


# --- the command line -----------------------------------------------------------------------------


def cli(books, *args):
    return books.app.test_cli_runner().invoke(args=list(args))


def test_cli_exit_codes(books):
    clean_month(books)
    books.at(at(2025, 11, 2))
    ok = cli(books, "reconcile", "--period", PERIOD)
    assert ok.exit_code == 0, ok.output
    assert "all matched" in ok.output and "transfers" in ok.output

    books.pay_out(7, books.users["ben"], 1_234, period="2025-11", stripe=False)
    books.at(at(2025, 11, 3))
    bad = cli(books, "reconcile", "--period", "2025-11")
    assert bad.exit_code == 1, bad.output
    assert "2 unmatched" in bad.output and "payout:item:7" in bad.output and "missing_in_stripe" in bad.output

    assert "transfer:USD" in bad.output  # the cash view: the same payout seen from the balance
    for wrong in ("2025-13", "october", "2025-1", ""):
        refused = cli(books, "reconcile", "--period", wrong)
        assert refused.exit_code == 2, (wrong, refused.output)
        assert "YYYY-MM" in refused.output
    assert cli(books, "reconcile").exit_code == 2
