"""Browse and search: filters, numbered pages, and filter errors next to their fields."""

from __future__ import annotations

import re

from app.marketplace import cameos
from app.marketplace.schemas import CameoIn
from tests.web.conftest import html

AVA, BEN, MISO = "Ava - warm studio portrait", "Ben - baritone narrator", "Miso the shiba"


def titles(response) -> set[str]:
    return set(re.findall(r'<h3><a href="/cameos/\d+">([^<]+)</a></h3>', html(response)))


def test_a_brand_sees_what_is_open_to_it(site):
    site.login("dana")
    assert titles(site.get("/")) == {AVA, BEN, MISO}
    site.login("eli")  # Miso is for approved brands (Northwind) only
    assert titles(site.get("/")) == {AVA, BEN}


def test_filters(site):
    site.login("dana")
    cases = {
        "?q=shiba": {MISO},
        "?q=NARRATION": {BEN},
        "?kind=voice": {BEN},
        "?kind=object": set(),
        "?category=gambling": {BEN, MISO},  # Ava blocks gambling
        "?category=fast_food": {AVA, BEN},  # Miso blocks fast food
        "?currency=EUR": {BEN},
        "?currency=JPY": {MISO},
        "?currency=USD&price_min=100&price_max=600": {AVA},  # offer 1: 500.00 USD
        "?currency=USD&price_min=600": {AVA},  # offer 2: 15,000.00 USD
        "?currency=USD&price_min=20000": set(),
        "?currency=JPY&price_max=2999999": set(),  # 3,000,000 JPY
        "?territory=ie": {BEN, AVA, MISO},  # Ava and Miso have WORLDWIDE offers
        "?territory=IE&currency=EUR": {BEN},
        "?q=%25": set(),  # LIKE wildcards are matched literally
    }
    for query, expected in cases.items():
        response = site.get("/" + query)
        assert response.status_code == 200, (query, html(response)[:300])
        assert titles(response) == expected, query


def test_filter_errors_are_shown_next_to_their_fields(site):
    site.login("dana")
    cases = {
        "?currency=USD&price_min=1.234": "more than 2 decimal places",
        "?currency=JPY&price_max=1.5": "more than 0 decimal places",
        "?currency=USD&price_min=-5": "must not be negative",
        "?price_min=5": "Choose a currency to filter by price.",
        "?currency=USD&price_min=abc": "Enter an amount like 12.50",
        "?territory=Narnia": "Not a territory code",
        "?kind=dragon": "Not a valid choice",
    }
    for query, message in cases.items():
        response = site.get("/" + query)
        assert response.status_code == 422, query
        assert message in html(response), query
        assert 'aria-invalid="true"' in html(response)


def test_numbered_pages_keep_the_filters(site):
    with site.services("ava") as (uow, ava):
        for n in range(13):
            cameos.create_cameo(uow, ava, site.clock(), CameoIn(kind="object", title=f"Lamp {n:02d}"))
        uow.commit()
    site.login("ava")  # a creator browses the cameos they own
    first = site.get("/?kind=object")
    assert "Page 1 of 2" in html(first) and len(titles(first)) == 12
    assert 'href="/?page=2&amp;kind=object"' in html(first)
    second = site.get("/?page=2&kind=object")
    assert "Page 2 of 2" in html(second) and titles(second) == {"Lamp 00"}
    assert titles(site.get("/?page=99&kind=object")) == {"Lamp 00"}  # clamped to the last page
