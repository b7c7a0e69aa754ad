"""The licence page's "Pay the upfront fee" button: the licensee brand is sent to Stripe
Checkout (the emulator's hosted page), pays, comes back, and the webhook activates the
licence; nobody else sees or can use the button."""

from __future__ import annotations

import re

import pytest

from tests.payments.harness import pay_world, seeded_sqlite

PASSWORD = "cameo-demo-2026"
EMAILS = {"eli": "eli@lumen.example", "dana": "dana@northwind.example", "ava": "ava@creators.example"}


def browser(world, who: str):
    client = world.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = client.post(
        "/login", data={"email": EMAILS[who], "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    )
    assert response.status_code == 302
    return client


def csrf(client, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))
    return found.group(1) if found else ""


def test_the_brand_pays_from_the_licence_page_and_the_webhook_activates_the_licence(pay_world):
    pay_world.forward()
    licence_id = pay_world.signed_licence(like=3, fee=12_345)
    client = browser(pay_world, "eli")
    page = client.get(f"/licences/{licence_id}").get_data(as_text=True)
    assert "Pay the upfront fee (123.45 USD)" in page

    response = client.post(f"/licences/{licence_id}/pay", data={"csrf_token": csrf(client, f"/licences/{licence_id}")})
    assert response.status_code == 303
    [session] = pay_world.emulator.objects("checkout.session")
    assert response.headers["Location"].endswith(f"/_emulator/checkout/{session['id']}")
    assert session["amount_total"] == 12_345 and session["success_url"].endswith(f"/licences/{licence_id}?paid=1")

    pay_world.emulator.pay_checkout_session(session["id"])
    pay_world.deliver()
    assert pay_world.licence(licence_id).status == "active"
    assert "Pay the upfront fee" not in client.get(f"/licences/{licence_id}").get_data(as_text=True)


@pytest.mark.parametrize("who", ["dana", "ava"])
def test_only_the_licensee_brand_sees_and_can_use_the_button(pay_world, who):
    licence_id = pay_world.signed_licence(like=3, fee=5_000)
    client = browser(pay_world, who)
    page = client.get(f"/licences/{licence_id}")
    assert "Pay the upfront fee" not in page.get_data(as_text=True)
    response = client.post(f"/licences/{licence_id}/pay", data={"csrf_token": csrf(client, "/")})
    assert response.status_code in (403, 404)
    assert pay_world.emulator.objects("checkout.session") == []
    assert pay_world.count("licence_payment") == 0
