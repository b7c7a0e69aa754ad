"""The marketplace journey in real headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright): a creator lists a cameo with consent and an offer, a brand
requests a licence, the creator approves, both sign.  A real server on a random
127.0.0.1 port serves the app over a migrated, seeded SQLite copy, with CSRF on.
Screenshots go to test-artifacts/.  Without chromium the test skips locally and
fails under CI=true.  Synchronisation is Playwright's auto-waiting only."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.db import Database
from app.kit.registry import provided
from tests.conftest import make_test_app
from tests.web.conftest import FAST_HASH, PASSWORD, PEOPLE, PNG, WEBM, seeded_copy

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _chromium_or_skip() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"The browser suite is mandatory under CI=true: {message}")
        pytest.skip(message)
    return path


@pytest.fixture
def live_server(web_seeded, tmp_path, clock):
    app = make_test_app(seeded_copy(web_seeded, tmp_path), tmp_path, clock, **FAST_HASH)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        provided(Database, app).dispose()


@pytest.fixture
def browser():
    executable = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _log_in(page, base: str, who: str):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(PEOPLE[who])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def test_creator_lists_brand_requests_both_sign(live_server, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server
    creator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    brand = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    for page in (creator, brand):
        page.set_default_timeout(15_000)

    # The creator creates a cameo with a preview image.
    _log_in(creator, base, "ava")
    expect(creator.locator("header .role")).to_have_text("creator")
    creator.get_by_role("link", name="New cameo").first.click()
    creator.get_by_label("Kind").select_option("face")
    creator.get_by_label("Title").fill("Ava - rooftop golden hour")
    creator.get_by_label("Description").fill("Three-quarter view at sunset; suits travel and outdoor brands.")
    creator.get_by_label("Gambling").check()
    creator.get_by_label("Preview image (PNG, JPEG or WebP)").set_input_files(
        {"name": "preview.png", "mimeType": "image/png", "buffer": PNG}
    )
    creator.get_by_role("button", name="Create cameo").click()
    expect(creator.get_by_role("status")).to_contain_text("Record consent to list it")
    manage_url = creator.url

    # ... records consent (statement shown, recording uploaded, signed) and lists it ...
    expect(creator.get_by_label("Consent statement")).to_contain_text("CONSENT TO LICENSE MY LIKENESS")
    creator.get_by_label("Liveness recording").set_input_files(
        {"name": "liveness.webm", "mimeType": "video/webm", "buffer": WEBM}
    )
    creator.get_by_label("I have read the statement above and give this consent").check()
    creator.get_by_role("button", name="Sign consent").click()
    expect(creator.get_by_role("status")).to_contain_text("Consent recorded")
    creator.get_by_role("button", name="List this cameo").click()
    expect(creator.get_by_role("status")).to_contain_text("The cameo is listed")

    # ... and opens an offer, prices typed as decimal text.
    offer = creator.locator("form.offer-form")
    offer.get_by_label("Social").check()
    offer.get_by_label("Web").check()
    offer.get_by_label("Territories").fill("US, GB")
    offer.get_by_label("Currency").select_option("USD")
    offer.get_by_label("Upfront fee").fill("250.00")
    offer.get_by_label("Royalty per use").fill("1.50")
    offer.get_by_role("button", name="Open offer").click()
    expect(creator.get_by_role("status")).to_contain_text("is open")
    expect(creator.locator("#offers table")).to_contain_text("250.00 USD")
    creator.screenshot(path=str(ARTIFACTS / "creator-manage-cameo.png"), full_page=True)

    # A brand finds it, and requests a licence for part of the offer.
    _log_in(brand, base, "dana")
    expect(brand.locator("header .role")).to_have_text("brand")
    brand.get_by_label("Search").fill("rooftop")
    brand.get_by_label("Territory").fill("US")
    brand.get_by_role("button", name="Search").click()
    expect(brand.get_by_role("heading", name="1 cameo")).to_be_visible()
    brand.screenshot(path=str(ARTIFACTS / "brand-browse.png"), full_page=True)
    brand.get_by_role("link", name="Ava - rooftop golden hour").click()
    expect(brand.get_by_role("img", name="Preview of Ava - rooftop golden hour")).to_be_visible()
    request = brand.locator("#request")
    request.get_by_label("Intended use").fill(
        "Six 10-second Instagram stories for our US spring trail-running shoe launch, posted on @northwind only."
    )
    request.get_by_role("checkbox", name="Social", exact=True).check()
    request.get_by_role("checkbox", name="US", exact=True).check()
    request.get_by_role("button", name="Request licence").click()
    expect(brand.get_by_role("status")).to_contain_text("requested (requested)")
    licence_url = brand.url
    licence_id = re.search(r"/licences/(\d+)$", licence_url).group(1)

    # The creator approves the request from the dashboard and signs the contract.
    creator.get_by_role("navigation", name="Main").get_by_role("link", name="My cameos").click()
    row = creator.get_by_role("row").filter(has=creator.get_by_role("link", name=f"#{licence_id}"))
    row.get_by_role("button", name="Approve").click()
    expect(creator.get_by_role("status")).to_contain_text("Approved")
    creator.goto(licence_url)
    expect(creator.get_by_label("Contract text")).to_contain_text("Northwind Outdoor")
    creator.get_by_label("I have read the contract above and sign it").check()
    creator.get_by_role("button", name="Sign contract").click()
    expect(creator.get_by_role("status")).to_contain_text("Waiting for the other party")

    # The brand signs the pending contract from its dashboard; the licence is signed.
    brand.get_by_role("navigation", name="Main").get_by_role("link", name="My licences").click()
    brand.get_by_role("table", name="Approved licences waiting for your signature").get_by_role(
        "link", name=f"#{licence_id}"
    ).click()
    brand.get_by_label("I have read the contract above and sign it").check()
    brand.get_by_role("button", name="Sign contract").click()
    expect(brand.get_by_role("status")).to_contain_text("Signed by both parties: the licence is signed")
    expect(brand.get_by_role("link", name="Contract (PDF)")).to_be_visible()
    brand.screenshot(path=str(ARTIFACTS / "licence-signed.png"), full_page=True)
    assert (ARTIFACTS / "licence-signed.png").stat().st_size > 0
    manage = creator.goto(manage_url)
    assert manage is not None and manage.ok
