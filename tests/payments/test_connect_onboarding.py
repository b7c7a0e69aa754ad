"""Stripe Connect onboarding (issue #6.1) end to end: the creator's dashboard button →
the account created in the emulator (once) → the account link → Stripe's form →
the signed ``account.updated`` webhook → the dashboard says whether payouts are
enabled, and in plain words why not.  Out-of-order and same-second events, lost
rows, and who may onboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import Database
from app.kit.registry import provided
from app.payments.models import ConnectAccount
from stripe_emulator.resources.accounts import ONBOARDING_FIELDS
from tests.payments.harness import PEOPLE, pay_world, pay_world_any_db, seeded_sqlite

PASSWORD = json.loads((Path(__file__).resolve().parents[2] / "seed_data" / "demo.json").read_text())["password"]
HTML = {"User-Agent": "pytest-web", "Accept": "text/html"}
STAFF = {"fay": "fay@books.example", "gus": "gus@cameo.example"}


class Browser:
    """A logged-in browser on the emulator-wired app (CSRF on, as in production)."""

    def __init__(self, world, who: str):
        self.world, self.client = world, world.app.test_client()
        response = self.client.post(
            "/login",
            headers=HTML,
            data={"email": {**PEOPLE, **STAFF}[who], "password": PASSWORD, "csrf_token": self.csrf("/login")},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:300]

    def csrf(self, path: str) -> str:
        page = self.client.get(path, headers=HTML).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=HTML, **kwargs)

    def connect(self):
        return self.client.post("/creator/payouts/connect", headers=HTML, data={"csrf_token": self.csrf("/creator")})

    def dashboard(self) -> str:
        response = self.get("/creator")
        assert response.status_code == 200
        return response.get_data(as_text=True)


def connect_row(world, creator_id: int) -> ConnectAccount | None:
    with provided(Database, world.app).unit_of_work() as uow:
        row = uow.session.exec(select(ConnectAccount).where(ConnectAccount.creator_id == creator_id)).first()
        if row is not None:
            uow.session.expunge(row)
        return row


def onboard_started(world, browser) -> str:
    """Press the button; returns the new Stripe account id."""
    response = browser.connect()
    assert response.status_code == 303
    found = re.fullmatch(r".*/_emulator/onboard/(acct_\w+)\?link=\w+", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def test_connect_onboard_webhook_and_the_dashboard_says_payouts_are_enabled(pay_world_any_db):
    world = pay_world_any_db
    world.forward()
    ava = Browser(world, "ava")
    page = ava.dashboard()
    assert "Connect Stripe" in page and "No Stripe account is connected yet" in page
    assert world.api("ava", "GET", "/me/payouts").get_json() == {
        "stripe_account_id": None,
        "payouts_enabled": False,
        "charges_enabled": False,
        "details_submitted": False,
        "requirements_due": [],
        "can_pay": False,
        "hold_reason": "No Stripe account is connected yet: connect one from your dashboard.",
    }

    account_id = onboard_started(world, ava)
    (account,) = world.emulator.objects("account")
    assert (account["id"], account["email"], account["metadata"]) == (
        account_id,
        "ava@creators.example",
        {"creator_id": str(world.users["ava"])},
    )
    assert [r["idempotency_key"] for r in world.emulator.requests("POST", "/v1/accounts")] == [
        f"connect-account:{world.users['ava']}"
    ]
    link = world.emulator.requests("POST", "/v1/account_links")[0]
    assert link["params"]["return_url"].endswith("/creator/payouts/return")
    assert link["params"]["refresh_url"].endswith("/creator/payouts/refresh")
    row = connect_row(world, world.users["ava"])
    assert (row.stripe_account_id, row.payouts_enabled, row.requirements_due) == (
        account_id,
        False,
        sorted(ONBOARDING_FIELDS),
    )
    page = ava.dashboard()
    assert "Continue onboarding" in page and "Stripe needs more information before it can pay you" in page
    assert "individual.first_name" in page

    # pressing again hands out a new link for the same account
    assert onboard_started(world, ava) == account_id
    assert len(world.emulator.objects("account")) == 1 and len(world.emulator.requests("POST", "/v1/accounts")) == 1

    world.emulator_clock.advance(60)
    world.emulator.complete_onboarding(account_id)  # what the creator does on Stripe's form
    report = world.deliver()
    assert report.pending == 0
    (event,) = [e for e in world.events().values() if e.type == "account.updated"]
    assert event.processed_at is not None and event.account == account_id
    row = connect_row(world, world.users["ava"])
    assert (row.payouts_enabled, row.charges_enabled, row.details_submitted, row.requirements_due) == (
        True,
        True,
        True,
        [],
    )
    page = ava.dashboard()
    assert "Payouts are enabled" in page and "Continue onboarding" not in page and "on hold" not in page
    status = world.api("ava", "GET", "/me/payouts").get_json()
    assert (status["stripe_account_id"], status["can_pay"], status["hold_reason"]) == (account_id, True, None)

    back = ava.get("/creator/payouts/return", follow_redirects=True)
    assert "Payouts are enabled: you will be paid in the next payout run." in back.get_data(as_text=True)
    # nothing left to finish: no new link, said plainly
    again = ava.connect()
    assert again.status_code == 303 and again.headers["Location"].endswith("/creator#payouts")
    assert "nothing to finish" in ava.dashboard()
    assert len(world.emulator.requests("POST", "/v1/account_links")) == 2


def test_returning_without_finishing_shows_what_stripe_still_needs(pay_world):
    ava = Browser(pay_world, "ava")
    onboard_started(pay_world, ava)
    back = ava.get("/creator/payouts/return", follow_redirects=True)
    text = back.get_data(as_text=True)
    assert "Payouts are on hold." in text and "Stripe needs more information before it can pay you:" in text
    assert "external_account" in text
    assert pay_world.emulator.requests("GET", "/v1/accounts/")  # the status was asked of Stripe, not assumed


def test_an_expired_link_is_refreshed_with_a_new_one(pay_world):
    ava = Browser(pay_world, "ava")
    account_id = onboard_started(pay_world, ava)
    refreshed = ava.get("/creator/payouts/refresh")
    assert refreshed.status_code == 303 and f"/_emulator/onboard/{account_id}?link=" in refreshed.headers["Location"]
    assert len(pay_world.emulator.objects("account")) == 1


def _two_account_events(world, *, apart: int) -> tuple[bytes, bytes]:
    """An older account.updated (requirements due) and a newer one (enabled), ``apart`` seconds apart."""
    world.capture()
    account_id = onboard_started(world, Browser(world, "ava"))
    world.emulator_clock.advance(5)
    world.gateway.client.v1.accounts.update(account_id, params={"metadata": {"note": "older"}})
    world.emulator_clock.advance(apart)
    world.emulator.complete_onboarding(account_id)
    world.deliver()
    older, newer = (payload for payload, _ in world.captured)
    assert json.loads(older)["data"]["object"]["payouts_enabled"] is False
    assert json.loads(newer)["data"]["object"]["payouts_enabled"] is True
    return older, newer


def test_an_older_event_delivered_late_changes_nothing(pay_world):
    older, newer = _two_account_events(pay_world, apart=30)
    assert pay_world.post_webhook(newer, pay_world.resign(newer)).get_json()["processed"] is True
    assert pay_world.post_webhook(older, pay_world.resign(older)).get_json()["processed"] is True
    row = connect_row(pay_world, pay_world.users["ava"])
    assert row.payouts_enabled is True and row.requirements_due == []
    assert row.stripe_updated_at.timestamp() == json.loads(newer)["created"]
    # in order, the newer one wins as well
    assert all(e.processed_at for e in pay_world.events().values())


def test_events_of_the_same_second_ask_stripe(pay_world):
    older, newer = _two_account_events(pay_world, apart=0)
    pay_world.post_webhook(newer, pay_world.resign(newer))
    before = len(pay_world.emulator.requests("GET", "/v1/accounts/"))
    pay_world.post_webhook(older, pay_world.resign(older))
    assert len(pay_world.emulator.requests("GET", "/v1/accounts/")) == before + 1
    assert connect_row(pay_world, pay_world.users["ava"]).payouts_enabled is True


def test_a_lost_row_is_rebuilt_from_the_accounts_metadata_and_strangers_are_ignored(pay_world):
    pay_world.forward()
    # Stripe made the account but the transaction that would have recorded it died
    ben = pay_world.users["ben"]
    orphan = pay_world.gateway.create_connected_account(
        email="ben@creators.example",
        country="US",
        idempotency_key=f"connect-account:{ben}",
        metadata={"creator_id": str(ben)},
    )
    stranger = pay_world.gateway.create_connected_account(
        email="x@elsewhere.example", country="US", idempotency_key="someone-else"
    )
    pay_world.emulator.complete_onboarding(orphan.id)
    pay_world.emulator.complete_onboarding(stranger.id)
    assert pay_world.deliver().pending == 0
    assert all(e.processed_at for e in pay_world.events().values())
    row = connect_row(pay_world, ben)
    assert (row.stripe_account_id, row.payouts_enabled) == (orphan.id, True)
    assert pay_world.count("connect_account") == 1
    # Ben pressing the button now finds his account: nothing new is created at Stripe
    Browser(pay_world, "ben").connect()
    assert len(pay_world.emulator.objects("account")) == 2


@pytest.mark.parametrize("who", ["eli", "fay", "gus"])
def test_only_creators_onboard(pay_world, who):
    browser = Browser(pay_world, who)
    response = browser.client.post("/creator/payouts/connect", headers=HTML, data={"csrf_token": browser.csrf("/")})
    assert response.status_code == 403
    assert pay_world.emulator.objects("account") == [] and pay_world.count("connect_account") == 0


def test_without_a_csrf_token_nothing_happens(pay_world):
    ava = Browser(pay_world, "ava")
    response = ava.client.post("/creator/payouts/connect", headers=HTML, data={})
    assert response.status_code in (303, 400)
    assert pay_world.emulator.objects("account") == [] and pay_world.count("connect_account") == 0


def test_stripe_down_is_a_message_not_a_500(pay_world):
    ava = Browser(pay_world, "ava")
    pay_world.emulator.inject_fault("error_500", method="POST", path_prefix="/v1/accounts", count=10)
    response = ava.connect()
    assert response.status_code == 303 and response.headers["Location"].endswith("/creator#payouts")
    assert "unavailable" in ava.dashboard()
    assert pay_world.count("connect_account") == 0
