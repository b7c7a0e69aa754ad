"""The /accounting pages: who may see them, what they show, CSV, bad input, the close form."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from .books import at
from .test_reconciliation import PERIOD, clean_month, injected_month

PASSWORD = json.loads((Path(__file__).resolve().parents[2] / "seed_data" / "demo.json").read_text())["password"]
EMAILS = {
    "ava": "ava@creators.example",
    "ben": "ben@creators.example",
    "dana": "dana@northwind.example",
    "eli": "eli@lumen.example",
    "fay": "fay@books.example",
    "gus": "gus@cameo.example",
}
PAGES = [
    "/accounting/reconciliation?period=2025-10",
    "/accounting/reconciliation.csv?period=2025-10",
    "/accounting/periods",
    "/accounting/periods/2025-10",
    "/accounting/periods/2025-10/trial-balance.csv",
]


def html(response) -> str:
    return response.get_data(as_text=True)


class Browser:
    def __init__(self, books, *, csrf: bool = False):
        self.app = books.app
        self.app.config["WTF_CSRF_ENABLED"] = csrf
        self.client = self.app.test_client()

    def token(self, path: str) -> str:
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html(self.get(path)))
        return found.group(1) if found else ""

    def login(self, who: str) -> None:
        response = self.client.post(
            "/login", data={"email": EMAILS[who], "password": PASSWORD, "csrf_token": self.token("/login")}
        )
        assert response.status_code == 302, html(response)[:300]

    def get(self, path: str):
        return self.client.get(path, headers={"Accept": "text/html"})

    def post(self, path: str, data: dict):
        return self.client.post(path, data=data, headers={"Accept": "text/html"})


@pytest.mark.parametrize("who", ["ava", "ben", "dana", "eli"])
def test_creators_and_brands_get_403(books, who):
    clean_month(books)
    books.at(at(2025, 11, 2))
    browser = Browser(books)
    browser.login(who)
    for path in PAGES:
        assert browser.get(path).status_code == 403, path
    refused = browser.post("/accounting/periods", {"period": PERIOD})
    assert refused.status_code == 403
    assert books.rows("SELECT COUNT(*) FROM ledger_closed_period") == [(0,)]


def test_anonymous_visitors_are_sent_to_log_in(books):
    response = Browser(books).get("/accounting/periods")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reconciliation_page_and_csv_show_each_category_with_drill_down(books):
    injected_month(books)
    books.at(at(2025, 11, 2))
    browser = Browser(books)
    browser.login("fay")
    page = browser.get("/accounting/reconciliation?period=2025-10")
    assert page.status_code == 200
    body = html(page)
    assert "Reconciliation 2025-10" in body and "6 unmatched row(s)" in body
    for text in (
        "transfers: missing in stripe",
        "transfers: amount mismatch",
        "transfers: currency mismatch",
        "transfers: missing in ledger",
        "payout:item:2",
        "75.00 USD",
        "30.00 EUR",
    ):
        assert text in body, text
    transfer_ids = [t["id"] for t in books.world.emulator.objects("transfer")]
    assert all(tid in body for tid in transfer_ids)

    download = browser.get("/accounting/reconciliation.csv?period=2025-10")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    item3 = next(r for r in rows if r["match_key"] == "payout:item:3")
    assert (item3["section"], item3["category"], item3["ledger_net"], item3["stripe_net"]) == (
        "transfers",
        "amount_mismatch",
        "7000",
        "7500",
    )  # integers of minor units, never floats
    assert sum(r["category"] != "matched" for r in rows) == 6


@pytest.mark.parametrize(
    "path",
    [
        "/accounting/reconciliation?period=2025-13",
        "/accounting/reconciliation?period=oct",
        "/accounting/reconciliation.csv?period=1",
        "/accounting/periods/2025-1x",
        "/accounting/periods/2025-00/trial-balance.csv",
    ],
)
def test_a_bad_period_is_a_400_that_says_what_is_expected(books, path):
    browser = Browser(books)
    browser.login("gus")
    response = browser.get(path)
    assert response.status_code == 400 and "YYYY-MM" in html(response)


def test_a_month_not_closed_has_no_report(books):
    browser = Browser(books)
    browser.login("fay")
    for path in ("/accounting/periods/2025-10", "/accounting/periods/2025-10/trial-balance.csv"):
        response = browser.get(path)
        assert response.status_code == 404 and "has not been closed" in html(response)


def test_closing_through_the_form_and_reading_the_report(books):
    injected_month(books)
    books.at(at(2025, 11, 2))
    browser = Browser(books)
    browser.login("fay")
    assert 'value="2025-10"' in html(browser.get("/accounting/periods"))  # the last month is proposed
    refused = browser.post("/accounting/periods", {"period": PERIOD, "override_reason": ""})
    assert refused.status_code == 303
    assert "not reconciled: 6 unmatched" in html(browser.get(refused.headers["Location"]))
    invalid = browser.post("/accounting/periods", {"period": "2025/10"})
    assert invalid.status_code == 422 and "YYYY-MM" in html(invalid)
    assert books.rows("SELECT COUNT(*) FROM accounting_period_close") == [(0,)]

    closed = browser.post("/accounting/periods", {"period": PERIOD, "override_reason": "agreed with Stripe support"})
    assert closed.status_code == 303 and closed.headers["Location"].endswith("/accounting/periods/2025-10")
    report = html(browser.get("/accounting/periods/2025-10"))
    assert "Close report 2025-10" in report and "agreed with Stripe support" in report
    assert "fay@books.example" in report and "platform:stripe:USD" in report
    listing = html(browser.get("/accounting/periods"))
    assert "agreed with Stripe support" in listing and 'href="/accounting/periods/2025-10"' in listing

    tb = list(
        csv.DictReader(io.StringIO(browser.get("/accounting/periods/2025-10/trial-balance.csv").get_data(as_text=True)))
    )
    stripe_usd = next(r for r in tb if r["account"] == "platform:stripe:USD")
    assert stripe_usd["closing"] == str(books.world.balance("platform:stripe:USD"))


def test_the_close_form_needs_its_csrf_token(books):
    clean_month(books)
    books.at(at(2025, 11, 2))
    browser = Browser(books, csrf=True)
    browser.login("fay")
    refused = browser.post("/accounting/periods", {"period": PERIOD})
    assert refused.status_code == 400
    assert books.rows("SELECT COUNT(*) FROM ledger_closed_period") == [(0,)]
    token = browser.token("/accounting/periods")
    accepted = browser.post("/accounting/periods", {"period": PERIOD, "csrf_token": token})
    assert accepted.status_code == 303
    assert books.rows("SELECT name FROM ledger_closed_period") == [(PERIOD,)]
