"""Table exports (CSV, XLSX, Parquet) read back with pandas: integer money, same totals;
the per-payee annual totals; the monthly activity behind the charts; the CLI."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timezone

import pandas as pd
import pytest

from app.books import reports as figures
from ledger import exports, reports
from ledger.periods import Period
from tests.reporting.ledger_story import AVA, BEN

DECIMAL_COLUMNS = ("amount_decimal", "debit_decimal", "credit_decimal", "balance_decimal")


def read_back(path_or_bytes, fmt: str, name: str) -> pd.DataFrame:
    if fmt == "csv":  # decimal text stays text ("11.110" KWD), as a spreadsheet user would import it
        return pd.read_csv(path_or_bytes, dtype=dict.fromkeys(DECIMAL_COLUMNS, str))
    if fmt == "parquet":
        return pd.read_parquet(path_or_bytes)
    # the workbook stores them as text cells; pandas would otherwise guess a float column
    return pd.read_excel(path_or_bytes, sheet_name=name, dtype=dict.fromkeys(DECIMAL_COLUMNS, str))


def check_postings(frame: pd.DataFrame, conn, period: Period | None) -> None:
    assert pd.api.types.is_integer_dtype(frame["amount"])
    assert frame.groupby("currency")["amount"].sum().eq(0).all()  # every entry balances per currency
    per_account = frame.groupby("account")["amount"].sum().to_dict()
    start = {b.code: b.amount for b in reports.balances(conn, before=period.starts_at)} if period else {}
    for b in reports.balances(conn, before=period.ends_at if period else None):
        assert start.get(b.code, 0) + per_account.get(b.code, 0) == b.amount, b.code
    kwd = frame[frame["currency"] == "KWD"]
    assert {str(v) for v in kwd["amount_decimal"]} <= {"12.345", "-11.111", "-1.234", "11.110", "-11.110"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_cli_export_round_trips_with_integer_money(books, tmp_path, fmt):
    out = tmp_path / ("book.xlsx" if fmt == "xlsx" else "book")
    result = books.app.test_cli_runner().invoke(args=["export", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with books.engine.connect() as conn:
        source = out if fmt == "xlsx" else out / f"postings.{fmt}"
        postings = read_back(source, fmt, "postings")
        assert len(postings) == len(exports.postings_frame(conn))
        check_postings(postings, conn, None)
        entries = read_back(out if fmt == "xlsx" else out / f"entries.{fmt}", fmt, "entries")
        assert pd.api.types.is_integer_dtype(entries["seq"]) and len(entries) == 15
        tb = read_back(out if fmt == "xlsx" else out / f"trial-balance.{fmt}", fmt, "trial-balance")
        for column in ("debit", "credit", "balance"):
            assert pd.api.types.is_integer_dtype(tb[column])
        assert tb.groupby("currency")["debit"].sum().equals(tb.groupby("currency")["credit"].sum())
        expected = {b.code: b.amount for b in reports.balances(conn)}
        assert dict(zip(tb["account"], tb["balance"].astype(int), strict=True)) == expected


def test_period_export_as_zip_has_only_the_period(books, tmp_path):
    out = tmp_path / "oct.zip"
    result = books.app.test_cli_runner().invoke(
        args=[
            "export",
            "--format",
            "parquet",
            "--period",
            "2026-10",
            "--out",
            str(out),
            "--tables",
            "postings,trial-balance,creators",
        ]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["creators.parquet", "postings.parquet", "trial-balance.parquet"]
        postings = pd.read_parquet(io.BytesIO(archive.read("postings.parquet")))
        creators = pd.read_parquet(io.BytesIO(archive.read("creators.parquet")))
    assert set(postings["entry_kind"]) == {"usage.invoice_paid", "licence.refund", "reserve.hold"}
    assert str(postings["effective_at"].dt.tz) == "UTC"
    with books.engine.connect() as conn:
        check_postings(postings, conn, Period.parse("2026-10"))
    ava_usd = creators[(creators["creator_id"] == AVA) & (creators["currency"] == "USD")].iloc[0]
    assert (
        ava_usd["opening"],
        ava_usd["refunds"],
        ava_usd["reserve"],
        ava_usd["closing"],
        ava_usd["reserve_closing"],
    ) == (8000, -2000, -1000, 5000, 1000)
    assert ava_usd["name"] == "Ava"


def test_beancount_through_the_cli(books, tmp_path):
    out = tmp_path / "oct.beancount"
    result = books.app.test_cli_runner().invoke(
        args=["export", "--format", "beancount", "--period", "2026-10", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 transactions" in result.output
    assert "2026-11-01 balance Liabilities:Creator:C7:Reserve:USD  -10.00 ~ 0 USD" in out.read_text()


@pytest.mark.parametrize(
    "args,message",
    [
        (["export", "--format", "pdf", "--out", "x"], "'pdf' is not one of"),
        (["export", "--format", "csv", "--period", "2026-13", "--out", "x"], "is not a period"),
        (["export", "--format", "csv", "--period", "October", "--out", "x"], "is not a period"),
        (["export", "--format", "csv", "--out", "x", "--tables", "entries,ledgers"], "Unknown table ledgers"),
        (["export", "--format", "csv", "--out", "x", "--tables", "creators"], "creators needs a period"),
        (["export", "--format", "beancount", "--out", "x.beancount", "--tables", "entries"], "--tables is for"),
        (["export", "--format", "xlsx", "--out", "{tmp}"], "is a directory"),
        (["export", "--format", "csv", "--out", "{tmp}/missing/folder/out"], "does not exist"),
        (["export", "--format", "csv"], "Missing option '--out'"),
        (["export-payees", "--year", "26", "--out", "p.csv"], "26 is not in the range"),
        (["export-payees", "--year", "twenty", "--out", "p.csv"], "is not a valid integer"),
    ],
)
def test_cli_bad_arguments_say_why_and_exit_non_zero(books, tmp_path, monkeypatch, args, message):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = [a.replace("{tmp}", str(work)) for a in args]
    result = books.app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert list(work.iterdir()) == []  # nothing written


def test_payee_totals_net_reversals_per_calendar_year(books, tmp_path):
    out = tmp_path / "payees-2026.csv"
    result = books.app.test_cli_runner().invoke(args=["export-payees", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype={"paid_decimal": str})
    rows = {(r.creator_id, r.currency): r for r in frame.itertuples()}
    assert set(rows) == {(AVA, "USD"), (BEN, "JPY"), (BEN, "KWD")}
    ava = rows[(AVA, "USD")]
    assert (ava.paid, ava.paid_decimal, ava.transfers, ava.reversals, ava.name, ava.email) == (
        4500,
        "45.00",
        2,
        0,
        "Ava",
        "ava@reports.example",
    )
    ben_jpy = rows[(BEN, "JPY")]  # a failed transfer, reversed, then paid again: paid once
    assert (ben_jpy.paid, ben_jpy.transfers, ben_jpy.reversals, ben_jpy.stripe_account_id) == (
        2125,
        2,
        1,
        "acct_1BenReports",
    )
    assert rows[(BEN, "KWD")].paid_decimal == "11.110"
    with books.engine.connect() as conn:  # the December transfer reversed in January counts against 2027
        assert figures.payee_totals(conn, 2027) == [figures.PayeeTotal(AVA, "USD", -500, 0, 1)]
        assert figures.payee_totals(conn, 2025) == []


def test_monthly_activity_figures(books):
    with books.engine.connect() as conn:
        rows = figures.monthly_activity(conn, before=datetime(2027, 2, 1, tzinfo=UTC))
    usd = {r.month: r for r in rows if r.currency == "USD"}
    assert list(usd) == ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01"]
    assert (usd["2026-09"].gross_sales, usd["2026-09"].commission, usd["2026-09"].outstanding_payables) == (
        10_000,
        2_000,
        8_000,
    )
    assert (usd["2026-10"].gross_sales, usd["2026-10"].commission) == (-2_500, -500)  # the refund
    assert usd["2026-10"].outstanding_payables == 6_000  # payable 5,000 + reserve 1,000
    assert (usd["2026-11"].payouts, usd["2026-12"].payouts, usd["2027-01"].payouts) == (4_000, 500, -500)
    jpy = {r.month: r for r in rows if r.currency == "JPY"}
    assert jpy["2026-10"].outstanding_payables == 4_251  # a quiet month carries the balance over
    assert jpy["2026-11"].payouts == 2_125  # transfer, reversal and retry net to one payment
    with books.engine.connect() as conn:
        owed = sum(
            -b.amount
            for b in reports.balances(conn, before=datetime(2027, 2, 1, tzinfo=UTC))
            if b.currency == "USD" and b.code.startswith("creator:") and ":recoverable:" not in b.code
        )
    assert usd["2027-01"].outstanding_payables == owed


def test_payouts_per_transfer_group_net_of_reversals(books):
    with books.engine.connect() as conn:
        november = figures.payout_groups(conn, Period.parse("2026-11"))
        january = figures.payout_groups(conn, Period.parse("2027-01"))
        frame = figures.payout_groups_frame(conn, None)
    assert november == [
        figures.PayoutGroup("settlement-2026-11", "JPY", 2_125, 2, 1),
        figures.PayoutGroup("settlement-2026-11", "KWD", 11_110, 1, 0),
        figures.PayoutGroup("settlement-2026-11", "USD", 4_000, 1, 0),
    ]
    # the reversal in January belongs to December's transfer group
    assert january == [figures.PayoutGroup("settlement-2026-12", "USD", -500, 0, 1)]
    assert frame[frame["transfer_group"] == "settlement-2026-12"]["amount"].sum() == 0
