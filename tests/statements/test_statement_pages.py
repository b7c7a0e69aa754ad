"""Statement pages and downloads: figures on the page, in the CSV (parsed) and the PDF;
who may read which statement; bad periods are 400/404, never 500.

The demo marketplace (ava creator of cameo 1 with licence 1 for Northwind; ben and
chloe co-own cameo 2, 70/30, licence 3 for Lumen), plus these entries:

  09-20  sale of licence 1, 100.00                    ava +80.00 (October's opening)
  10-02  3 uses of licence 1 (Northwind) at 10.00     ava +24.00
  10-03  1 use of licence 3 (Lumen) at 10.00          ben +5.60, chloe +2.40 (co-owned)
  10-05  payout to ava 50.00 (earnings to 2026-09)    ava −50.00
  10-06  reserve hold 4.00                            ava payable −4.00, reserve +4.00
October closing for ava: payable 50.00, reserve 4.00.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timezone

import pytest
from sqlmodel import select

from app.books import chart, recipes
from app.books.recipes import Owner
from app.db import Database
from app.kit.registry import provided
from app.people.models import User
from app.seed import seed_demo
from ledger import Ledger
from ledger.money import parse_minor
from tests.conftest import make_test_app
from tests.web.conftest import FAST_HASH, PEOPLE, Site, web_seeded


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def ids(app) -> dict[str, int]:
    with provided(Database, app).unit_of_work() as uow:
        return {
            short: uow.session.exec(select(User.id).where(User.email == email)).one() for short, email in PEOPLE.items()
        }


def book_entries(app) -> dict[str, int]:
    people = ids(app)
    ava, ben, chloe = people["ava"], people["ben"], people["chloe"]
    alone = [Owner(ava, 10_000)]
    drafts = [
        recipes.licence_sale(
            key="licence-sale:1",
            effective_at=at(9, 20),
            currency="USD",
            gross=10_000,
            stripe_fee=320,
            commission_bps=2000,
            owners=alone,
            meta={"licence_id": 1},
        ),
        *(
            recipes.derivative_use(
                key=f"usage:1:e{i}",
                effective_at=at(10, 2),
                currency="USD",
                price=1_000,
                commission_bps=2000,
                brand_id=1,
                owners=alone,
                meta={"licence_id": 1},
            )
            for i in range(3)
        ),
        recipes.derivative_use(
            key="usage:2:e1",
            effective_at=at(10, 3),
            currency="USD",
            price=1_000,
            commission_bps=2000,
            brand_id=2,
            owners=[Owner(ben, 7_000), Owner(chloe, 3_000)],
            meta={"licence_id": 3},
        ),
        recipes.payout_transfer(
            key="payout:item:1",
            effective_at=at(10, 5),
            currency="USD",
            amount=5_000,
            creator_id=ava,
            meta={"period": "2026-09", "item_id": 1, "creator_id": ava},
        ),
        recipes.holdback_to_reserve(
            key=f"settlement:2026-10:reserve:{ava}:USD",
            effective_at=at(10, 6),
            currency="USD",
            amount=400,
            creator_id=ava,
        ),
    ]
    ledger = provided(Ledger, app)
    with provided(Database, app).unit_of_work() as uow:
        chart.open_accounts_for(ledger, uow.session, drafts)
        ledger.post_batch(uow.session, drafts, now=at(10, 6))
        uow.commit()
    return people


@pytest.fixture
def world(database_url, tmp_path, clock):
    """The seeded demo marketplace with the entries above, on SQLite and PostgreSQL."""
    app = make_test_app(database_url, tmp_path, clock, WTF_CSRF_ENABLED=False, **FAST_HASH)
    seed_demo(app, now=clock())
    site = Site(app=app, clock=clock)
    site.people = book_entries(app)
    yield site
    provided(Database, app).dispose()


@pytest.fixture
def quick(web_seeded, tmp_path, clock):
    """The same on a copy of the seeded SQLite file (authorisation and bad-input tests)."""
    from tests.web.conftest import seeded_copy

    app = make_test_app(seeded_copy(web_seeded, tmp_path), tmp_path, clock, WTF_CSRF_ENABLED=False, **FAST_HASH)
    site = Site(app=app, clock=clock)
    site.people = book_entries(app)
    yield site
    provided(Database, app).dispose()


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_statement_page_shows_every_figure(world):
    world.login("ava")
    page = world.get("/statements/2026-10").get_data(as_text=True)
    assert "Statement 2026-10 · USD" in page
    assert '<dd id="closing">50.00 USD</dd>' in page
    for text in (
        "Balance brought forward",
        "80.00 USD",
        "Licence #1 · ",
        "Northwind Outdoor",
        "30.00 USD",
        "6.00 USD",
        "24.00 USD",
        "Payout to your Stripe account (earnings to 2026-09)",
        "-50.00 USD",
        "Held in reserve",
        "-4.00 USD",
        "4.00 USD",
        "50.00 USD is carried forward to the next period",
        "Payouts are on hold: No Stripe account is connected yet",
    ):
        assert text in page, text
    assert "Lumen" not in page  # Ben's co-owned licence is not Ava's


def test_the_csv_adds_up_to_the_closing_balance(world):
    world.login("ava")
    response = world.get("/statements/2026-10.csv")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="statement-{world.people["ava"]}-2026-10-USD.csv"'
    )
    rows = read_csv(response)
    by_section = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    (opening,), (closing,) = by_section["opening"], by_section["closing"]
    (uses,) = by_section["uses"]
    assert (uses["licence_id"], uses["brand"], uses["count"], uses["gross"], uses["commission"], uses["net"]) == (
        "1",
        "Northwind Outdoor",
        "3",
        "30.00",
        "6.00",
        "24.00",
    )
    (payout,) = by_section["payouts"]
    assert (payout["net"], payout["reserve"], payout["recoverable"]) == ("-50.00", "0.00", "0.00")
    (hold,) = by_section["reserve"]
    assert (hold["net"], hold["reserve"]) == ("-4.00", "4.00")
    assert "sales" not in by_section  # the sale was in September
    assert (opening["net"], closing["net"], closing["reserve"], closing["recoverable"]) == (
        "80.00",
        "50.00",
        "4.00",
        "0.00",
    )
    moves = [r for r in rows if r["section"] not in ("opening", "closing")]
    total = sum(parse_minor(r["net"], "USD") for r in moves)
    assert parse_minor(opening["net"], "USD") + total == parse_minor(closing["net"], "USD") == 5_000
    assert {r["currency"] for r in rows} == {"USD"}


def test_the_pdf(world):
    world.login("ava")
    response = world.get("/statements/2026-10.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    assert b"Closing payable 50.00 USD" in body  # the document's subject (page text is glyph-encoded)


def test_a_co_owner_sees_their_share_labelled(world):
    world.login("ben")
    rows = read_csv(world.get("/statements/2026-10.csv"))
    (use,) = [r for r in rows if r["section"] == "uses"]
    assert (use["licence_id"], use["brand"], use["gross"], use["commission"], use["net"]) == (
        "3",
        "Lumen Studios",
        "10.00",
        "2.00",
        "5.60",
    )
    assert "net is your share" in use["description"]
    page = world.get("/statements/2026-10").get_data(as_text=True)
    assert "gross and commission are the whole cameo" in page


def test_the_dashboard_lists_the_months(quick):
    quick.login("ava")
    page = quick.get("/creator").get_data(as_text=True)
    assert 'href="/statements/2026-10?currency=USD"' in page and 'href="/statements/2026-09?currency=USD"' in page
    assert 'href="/statements/2026-10.csv?currency=USD"' in page
    quick.login("chloe")
    page = quick.get("/creator").get_data(as_text=True)
    assert "/statements/2026-10?currency=USD" in page and "/statements/2026-09" not in page


def test_staff_read_any_creators_statement(quick):
    ava = quick.people["ava"]
    for who in ("fay", "gus"):
        quick.login(who)
        index = quick.get("/statements").get_data(as_text=True)
        assert f'href="/statements/{ava}"' in index
        periods = quick.get(f"/statements/{ava}").get_data(as_text=True)
        assert f"/statements/{ava}/2026-10?currency=USD" in periods
        page = quick.get(f"/statements/{ava}/2026-10")
        assert page.status_code == 200 and '<dd id="closing">50.00 USD</dd>' in page.get_data(as_text=True)
        rows = read_csv(quick.get(f"/statements/{ava}/2026-10.csv"))
        assert rows[-1]["net"] == "50.00"
        assert quick.get(f"/statements/{ava}/2026-10.pdf").get_data().startswith(b"%PDF")


@pytest.mark.parametrize(
    "who, path, status",
    [
        ("ben", "/statements/{ava}/2026-10", 404),  # another creator's: not even whether it exists
        ("ben", "/statements/{ava}/2026-10.csv", 404),
        ("ben", "/statements/{ava}", 404),
        ("dana", "/statements/2026-10", 403),  # brands have no statements
        ("dana", "/statements/{ava}/2026-10.pdf", 403),
        ("dana", "/statements", 403),
        ("fay", "/statements/2026-10", 404),  # staff have none of their own
        ("fay", "/statements/{dana}/2026-10", 404),  # not a creator
        ("gus", "/statements/999999/2026-10", 404),
        ("ava", "/statements/{ava}/2026-10", 200),  # their own, by id
    ],
)
def test_who_may_read_which_statement(quick, who, path, status):
    quick.login(who)
    response = quick.get(path.format(**quick.people))
    assert response.status_code == status
    if status != 200:
        assert "50.00" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(quick):
    response = quick.get("/statements/2026-10.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path, status, says",
    [
        ("/statements/2026-13", 400, "YYYY-MM"),
        ("/statements/2026-1", 400, "YYYY-MM"),
        ("/statements/oct-2026.csv", 400, "YYYY-MM"),
        ("/statements/0000-10", 400, "YYYY-MM"),
        ("/statements/2026-10.xls", 404, ".csv or a .pdf"),
        ("/statements/2026-10.csv.pdf", 404, ".csv or a .pdf"),
        ("/statements/2026-10?currency=DOLLARS", 400, "currency code"),
        ("/statements/{ava}/99999-01", 400, "YYYY-MM"),
    ],
)
def test_bad_periods_are_clear_4xx(quick, path, status, says):
    quick.login("ava")
    before = quick.fingerprint()
    response = quick.get(path.format(**quick.people))
    assert response.status_code == status
    assert says in response.get_data(as_text=True)
    json_answer = quick.client.get(path.format(**quick.people), headers={"Accept": "application/json"})
    assert json_answer.status_code == status and json_answer.mimetype == "application/problem+json"
    assert quick.fingerprint() == before


def test_quiet_months_and_other_currencies(quick):
    quick.login("ava")
    rows = read_csv(quick.get("/statements/2026-11.csv"))  # nothing happened: balances carried
    assert [(r["section"], r["net"], r["reserve"]) for r in rows] == [
        ("opening", "50.00", "4.00"),
        ("closing", "50.00", "4.00"),
    ]
    euro = read_csv(quick.get("/statements/2026-10.csv?currency=eur"))
    assert [(r["section"], r["net"], r["currency"]) for r in euro] == [
        ("opening", "0.00", "EUR"),
        ("closing", "0.00", "EUR"),
    ]
    # the clock says 2026-10-15: October is still open, September is not
    assert "has not ended yet" in quick.get("/statements/2026-10").get_data(as_text=True)
    september = quick.get("/statements/2026-09").get_data(as_text=True)
    assert "has not ended yet" not in september and "80.00 USD is carried forward" in september
