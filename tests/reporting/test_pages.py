"""The accountant dashboard through the Flask test client: trial balance as of a date,
drill-down from account to entry, charts, creators, CSV downloads, exports, and who may
see any of it (accountants and admins; creators and brands get 403)."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pytest

from app.reporting import service
from tests.reporting.ledger_story import AVA

PAGES = [
    "/reports/",
    "/reports/trial-balance",
    "/reports/accounts",
    "/reports/accounts/creator:7:payable:USD",
    "/reports/entries",
    "/reports/entries/1",
    "/reports/creators",
    "/reports/charts/USD.svg",
    "/reports/activity.csv",
    "/reports/exports",
    "/reports/exports/download?format=csv",
    "/reports/exports/payees?year=2026",
]


def body(response) -> str:
    return response.get_data(as_text=True)


def cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


@pytest.mark.parametrize("who", ["ava", "dana"])
def test_creators_and_brands_are_refused_everywhere(books, who):
    books.login(who)
    for path in PAGES:
        response = books.get(path)
        assert response.status_code == 403, path
        assert "accountant" in body(response)


def test_anonymous_visitors_are_sent_to_log_in(books):
    response = books.get("/reports/trial-balance")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["fay", "gus"])
def test_accountants_and_admins_see_every_page(books, who):
    books.login(who)
    for path in PAGES:
        assert books.get(path).status_code == 200, path


def test_trial_balance_as_of_a_date(books):
    books.login("fay")
    html = body(books.get("/reports/trial-balance?as_of=2026-10-31"))
    assert "Trial balance as of 2026-10-31" in html
    rows = {r[0]: r for r in cells(html) if r}
    assert rows["creator:7:payable:USD"][-2:] == ["50.00", "USD"]  # credit 50.00 USD
    assert rows["creator:7:reserve:USD"][-2:] == ["10.00", "USD"]
    assert rows["platform:stripe:JPY"][-2:] == ["4,821", "JPY"]
    assert "UNBALANCED" not in html
    csv = books.get("/reports/trial-balance?as_of=2026-10-31&format=csv")
    assert csv.mimetype == "text/csv"
    assert 'filename="trial-balance-2026-10-31.csv"' in csv.headers["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(csv.data), dtype={"balance_decimal": str})
    row = frame.set_index("account").loc["creator:7:payable:USD"]
    assert (row["credit"], row["balance"], row["balance_decimal"]) == (5000, -5000, "-50.00")
    assert frame.groupby("currency")["debit"].sum().equals(frame.groupby("currency")["credit"].sum())


@pytest.mark.parametrize("as_of", ["yesterday", "2026-02-30", "31/10/2026"])
def test_a_bad_date_is_a_clear_400(books, as_of):
    books.login("fay")
    response = books.get(f"/reports/trial-balance?as_of={as_of}")
    assert response.status_code == 400
    assert "is not a date: use YYYY-MM-DD" in body(response)


@pytest.mark.parametrize(
    "path,message",
    [
        ("/reports/creators?period=2026-13", "is not a period"),
        ("/reports/entries?page=abc", "is not a page number"),
        ("/reports/trial-balance?format=pdf", "is not a format here"),
        ("/reports/exports/download?format=ods", "is not an export format"),
        ("/reports/exports/download?format=csv&tables=nope", "Unknown table nope"),
        ("/reports/exports/download?format=xlsx&tables=creators", "creators needs a period"),
        ("/reports/exports/payees?year=last", "is not a year"),
        ("/reports/exports/payees?year=1066", "is not a plausible calendar year"),
    ],
)
def test_bad_query_strings_are_400s(books, path, message):
    books.login("fay")
    response = books.get(path)
    assert response.status_code == 400, path
    assert message in body(response)


def test_account_drill_down_to_entries_and_back(books, monkeypatch):
    monkeypatch.setattr(service, "PER_PAGE", 3)
    books.login("fay")
    first = body(books.get("/reports/accounts/creator:7:payable:USD"))
    assert "Page 1 of 3" in first
    rows = [r for r in cells(first) if r and r[0][:4].isdigit()]
    # newest first, with the balance after each posting (as signed debits: a credit balance is negative)
    assert rows[0][:5] == ["2027-01-02", "12:00", "UTC", "#15", "payout:item:4:reversal"]
    assert rows[0][-4:] == ["-5.00", "USD", "-12.00", "USD"]
    last = body(books.get("/reports/accounts/creator:7:payable:USD?page=3"))
    assert "licence #1 fee &#34;upfront&#34;" in last and "-80.00 USD" in last
    assert books.get("/reports/accounts/creator:7:payable:USD?page=4").status_code == 404
    assert books.get("/reports/accounts/creator:99:payable:USD").status_code == 404
    seq = books.seqs["payout_dec"]
    assert f'href="/reports/entries/{seq}"' in first
    entry = body(books.get(f"/reports/entries/{seq}"))
    assert "payout:item:4" in entry and "settlement-2026-12" in entry
    assert "Reversed by" in entry
    assert 'href="/reports/accounts/platform:stripe:USD"' in entry
    csv = pd.read_csv(io.BytesIO(books.get("/reports/accounts/creator:7:payable:USD?page=1&format=csv").data))
    assert list(csv["amount"]) == [-500, 500, -1000] and csv["amount"].dtype == "int64"


def test_entries_list_filters_by_period_and_kind(books):
    books.login("fay")
    html = body(books.get("/reports/entries?period=2026-11&kind=payout.transfer"))
    assert "payout:item:2:1" in html and "payout:item:3" in html and "refund" not in html.split("<table>")[1]
    frame = pd.read_csv(io.BytesIO(books.get("/reports/entries?period=2026-11&kind=reversal&format=csv").data))
    assert list(frame["key"]) == ["payout:item:2:reversal"]
    assert books.get("/reports/entries/9999").status_code == 404


def test_charts_are_svg_with_the_four_series(books):
    books.login("fay")
    dashboard = body(books.get("/reports/?as_of=2027-01-31"))
    for currency in ("JPY", "KWD", "USD"):
        assert f'src="/reports/charts/{currency}.svg?as_of=2027-01-31"' in dashboard
    svg = books.get("/reports/charts/KWD.svg?as_of=2027-01-31")
    assert svg.mimetype == "image/svg+xml"
    text = body(svg)
    assert "<svg" in text[:400]
    for label in ("Gross sales", "Commission", "Payouts", "Outstanding payables", "Monthly activity (KWD)", "2026-11"):
        assert label in text
    assert "<script" not in text
    assert books.get("/reports/charts/EUR.svg").status_code == 404
    csv = pd.read_csv(io.BytesIO(books.get("/reports/activity.csv?as_of=2027-01-31").data))
    usd = csv[csv["currency"] == "USD"].set_index("month")
    assert usd.loc["2026-09", "gross_sales"] == 10_000 and usd["payouts"].dtype == "int64"


def test_creators_page_links_statements(books):
    books.login("fay")
    html = body(books.get("/reports/creators?period=2026-11"))
    assert f'href="/statements/{AVA}/2026-11"' in html
    assert "ava@reports.example" in html
    frame = pd.read_csv(io.BytesIO(books.get("/reports/creators?period=2026-11&format=csv").data))
    ben_kwd = frame[(frame["creator_id"] == 8) & (frame["currency"] == "KWD")].iloc[0]
    assert (ben_kwd["opening"], ben_kwd["paid_out"], ben_kwd["closing"]) == (11111, 11110, 1)


def test_export_downloads(books):
    books.login("fay")
    workbook = books.get("/reports/exports/download?format=xlsx&period=2026-11&tables=postings&tables=creators")
    assert workbook.status_code == 200
    sheets = pd.read_excel(io.BytesIO(workbook.data), sheet_name=None)
    assert list(sheets) == ["postings", "creators"]
    assert sheets["postings"]["amount"].sum() == 0 and sheets["postings"]["amount"].dtype == "int64"
    archive = zipfile.ZipFile(io.BytesIO(books.get("/reports/exports/download?format=csv").data))
    assert sorted(archive.namelist()) == [
        "activity.csv",
        "entries.csv",
        "payouts.csv",
        "postings.csv",
        "trial-balance.csv",
    ]
    beancount = books.get("/reports/exports/download?format=beancount&period=2026-10")
    assert 'filename="cameo-2026-10.beancount"' in beancount.headers["Content-Disposition"]
    assert "2026-11-01 balance Liabilities:Creator:C7:Payable:USD  -50.00 ~ 0 USD" in body(beancount)
    payees = pd.read_csv(io.BytesIO(books.get("/reports/exports/payees?year=2026").data))
    assert set(payees["stripe_account_id"].fillna("")) == {"", "acct_1BenReports"}


def test_navigation_shows_reports_to_staff_only(books):
    books.login("fay")
    assert 'href="/reports/"' in body(books.get("/overview"))
    books.login("ava")
    assert 'href="/reports/"' not in body(books.get("/"))
