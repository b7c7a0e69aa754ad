"""Every page renders for the roles that may see it, and for nobody else."""

from __future__ import annotations

import pytest

from tests.web.conftest import html

PAGES = {
    "ava": [
        "/",
        "/creator",
        "/creator/cameos/new",
        "/creator/cameos/1",
        "/cameos/1",
        "/licences/1",
        "/licences/2",
        "/cameos/1/preview",
        "/licences/1/contract.html",
    ],
    "ben": ["/", "/creator", "/creator/cameos/2", "/cameos/2", "/licences/3"],
    "chloe": ["/creator", "/cameos/2", "/creator/cameos/3", "/licences/3"],
    "dana": ["/", "/brand", "/cameos/1", "/cameos/2", "/cameos/3", "/licences/1", "/licences/1/contract.html"],
    "eli": ["/", "/brand", "/cameos/1", "/licences/2", "/licences/3"],
    "fay": ["/", "/overview", "/cameos/3", "/licences/2"],
    "gus": ["/", "/overview", "/licences/1"],
}
DENIED = [  # (who, path, status)
    ("ben", "/cameos/1", 404),
    ("ben", "/creator/cameos/1", 404),
    ("ben", "/licences/1", 404),
    ("chloe", "/creator/cameos/2", 403),  # a co-owner sees the cameo but only its creator manages it
    ("eli", "/cameos/3", 404),
    ("eli", "/licences/1", 404),
    ("eli", "/licences/1/contract.pdf", 404),
    ("dana", "/licences/2", 404),
    ("dana", "/creator", 403),
    ("dana", "/overview", 403),
    ("ava", "/brand", 403),
    ("ava", "/overview", 403),
    ("ava", "/cameos/3/preview", 404),
    ("ava", "/licences/2/contract.html", 409),  # not signed yet
    ("fay", "/creator", 403),
]


@pytest.mark.parametrize("who", sorted(PAGES))
def test_pages_render_for_their_roles(site, who):
    site.login(who)
    for path in PAGES[who]:
        response = site.get(path)
        assert response.status_code == 200, (path, html(response)[:500])


def test_pages_refuse_other_people(site):
    current = None
    for who, path, status in DENIED:
        if who != current:
            site.login(who)
            current = who
        response = site.get(path)
        assert response.status_code == status, (who, path, response.status_code)


def test_anonymous_visitors_see_the_welcome_and_are_sent_to_log_in(site):
    welcome = site.get("/")
    assert welcome.status_code == 200 and "Log in to browse cameos" in html(welcome)
    for path in ("/creator", "/brand", "/cameos/1", "/licences/1", "/overview", "/creator/cameos/new"):
        response = site.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_nav_shows_the_role_and_logout(site):
    site.login("dana")
    page = html(site.get("/"))
    assert 'class="role">brand<' in page and "Log out" in page and "My licences" in page
    assert "local Stripe emulator" not in page


def test_banner_for_the_stripe_emulator(site):
    site.app.config["STRIPE_API_BASE"] = "http://127.0.0.1:12111"
    assert "local Stripe emulator" in html(site.get("/login"))


def test_pages_are_accessible_in_their_structure(site):
    site.login("ava")
    manage = html(site.get("/creator/cameos/1"))
    assert '<main id="main"' in manage and 'aria-label="Main"' in manage and 'class="skip"' in manage
    assert "<caption>" in manage and 'scope="col"' in manage and "<legend>" in manage
    assert 'alt="Preview of Ava - warm studio portrait"' in manage
    assert '<label for="upfront_fee">' in manage


def test_contract_downloads(site):
    site.login("dana")
    pdf = site.get("/licences/1/contract.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    page = site.get("/licences/1/contract.html")
    assert page.mimetype == "text/html" and "Contract sha256" in html(page)
