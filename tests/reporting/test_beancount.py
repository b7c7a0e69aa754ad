"""The Beancount export passes ``bean-check`` and its balances are the ledger's.

The story has sales, uses, an invoice, a refund and a dispute, reserve moves, payouts,
reversed payouts, and USD, JPY (0 decimals) and KWD (3 decimals).  Checked three ways:
``bean-check`` (which also evaluates the month-end ``balance`` assertions), Beancount's
own loader and realization compared account by account with ``ledger.reports`` at every
month end, and a tampered assertion that ``bean-check`` must reject.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data, realization

from ledger import exports, reports
from ledger.exports import beancount_account
from ledger.money import format_minor
from ledger.periods import Period


def bean_check(path: Path) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("bean-check")
    command = str(command) if command.exists() else shutil.which("bean-check")
    assert command, "bean-check is installed with the test extra (beancount)"
    return subprocess.run([command, str(path)], capture_output=True, text=True, timeout=120)


def realized(entries, before: date) -> dict[str, Decimal]:
    """Beancount's own balance of every account, from the transactions dated before ``before``."""
    root = realization.realize([e for e in entries if e.date < before and not isinstance(e, data.Balance)])
    out = {}
    for real in realization.iter_children(root):
        for position in real.balance:
            out[real.account] = position.units.number
    return out


def ledger_balances(conn, before: datetime | None) -> dict[str, Decimal]:
    return {
        beancount_account(b.code, b.type): Decimal(format_minor(b.amount, b.currency))
        for b in reports.balances(conn, before=before)
    }


def export(books, tmp_path: Path, period: Period | None) -> Path:
    path = tmp_path / f"book-{period.name if period else 'all'}.beancount"
    with books.engine.connect() as conn, path.open("w") as handle:
        exports.write_beancount(conn, handle, period=period)
    return path


def test_whole_book_passes_bean_check_and_balances_equal_the_ledger(books, tmp_path):
    path = export(books, tmp_path, None)
    checked = bean_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assertions = [e for e in entries if isinstance(e, data.Balance)]
    with books.engine.connect() as conn:
        entry_count = len(exports.entries_frame(conn))
        accounts = len(reports.balances(conn))
        assert len(transactions) == entry_count == 15
        assert {t.meta["kind"] for t in transactions} >= {
            "licence.sale",
            "usage.royalty",
            "licence.refund",
            "licence.dispute",
            "reserve.hold",
            "reserve.release",
            "payout.transfer",
            "reversal",
            "usage.invoice_paid",
        }
        # five month ends (Sep 2026 – Jan 2027), every account asserted at each
        assert len(assertions) == 5 * accounts
        for month in exports.months(datetime(2026, 9, 1, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC)):
            expected = {k: v for k, v in ledger_balances(conn, month.ends_at).items() if v}
            assert realized(entries, month.ends_at.date()) == expected, month.name
        assert realized(entries, date(9999, 1, 1)) == {k: v for k, v in ledger_balances(conn, None).items() if v}

    kwd = {a.account: a.amount for a in assertions if a.date == date(2026, 12, 1)}
    assert kwd["Liabilities:Creator:C8:Payable:KWD"].number == Decimal("-0.001")
    assert kwd["Assets:Platform:Stripe:JPY"].number == Decimal("2696")


def test_a_period_export_opens_with_the_earlier_balances_and_checks(books, tmp_path):
    path = export(books, tmp_path, Period.parse("2026-11"))
    checked = bean_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assert transactions[0].narration == "Opening balances before 2026-11"
    assert all(t.date.month == 11 for t in transactions)
    with books.engine.connect() as conn:
        end = datetime.combine(date(2026, 12, 1), time(), tzinfo=UTC)
        assert realized(entries, date(2026, 12, 1)) == {k: v for k, v in ledger_balances(conn, end).items() if v}


def test_bean_check_rejects_an_assertion_off_by_one_minor_unit(books, tmp_path):
    path = export(books, tmp_path, None)
    text = path.read_text()
    good = "2026-12-01 balance Liabilities:Creator:C7:Payable:USD  -2.00 ~ 0 USD"
    assert good in text
    path.write_text(text.replace(good, good.replace("-2.00", "-2.01")))
    checked = bean_check(path)
    assert checked.returncode != 0
    assert "Balance failed for 'Liabilities:Creator:C7:Payable:USD'" in checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "code,kind,name",
    [
        ("creator:42:payable:USD", "liability", "Liabilities:Creator:C42:Payable:USD"),
        ("brand:7:receivable:JPY", "asset", "Assets:Brand:B7:Receivable:JPY"),
        ("platform:fees:stripe:KWD", "expense", "Expenses:Platform:Fees:Stripe:KWD"),
        ("platform:revenue:commission:EUR", "revenue", "Income:Platform:Revenue:Commission:EUR"),
        ("owner:capital_in:USD", "equity", "Equity:Owner:Capital-in:USD"),
    ],
)
def test_account_names(code, kind, name):
    assert beancount_account(code, kind) == name
