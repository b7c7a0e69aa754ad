"""Every idempotent input: the same request again is the same answer, the same key with
other content a conflict (issue #14.2) — for licence checkouts and usage invoices, whose
idempotency is the licence (or the brand's period) rather than a key the caller sends.

Asking again for a licence's checkout while its session is open hands out that session;
asking with other return addresses would silently send the payer somewhere the brand no
longer wants, so it is a 409 (``code: idempotency_conflict``) naming the open session.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.books import chart, recipes
from app.db import Database
from app.kit.registry import provided
from ledger import Ledger
from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator
from tests.payments.harness import pay_world, seeded_sqlite

from .test_usage_invoice import BRAND, _invoice


def checkout(world, licence_id: int, success: str, cancel: str = "https://brand.example/back"):
    return world.api(
        "eli", "POST", f"/licences/{licence_id}/checkout", json={"success_url": success, "cancel_url": cancel}
    )


def test_a_second_checkout_with_other_addresses_is_a_conflict_not_a_new_session(pay_world):
    world = pay_world
    licence_id = world.signed_licence(like=3, fee=25_000)
    first = checkout(world, licence_id, "https://brand.example/paid")
    assert first.status_code == 201, first.get_json()
    again = checkout(world, licence_id, "https://brand.example/paid")
    assert again.status_code == 201 and again.get_json() == first.get_json()

    other = checkout(world, licence_id, "https://elsewhere.example/paid")
    assert other.status_code == 409 and other.mimetype == "application/problem+json"
    body = other.get_json()
    assert body["code"] == "idempotency_conflict"
    assert body["checkout_session_id"] == first.get_json()["checkout_session_id"]
    assert body["url"] == first.get_json()["url"]
    assert len(world.emulator.objects("checkout.session")) == 1  # nothing new at Stripe


def test_asking_again_for_an_open_usage_invoice_with_other_addresses_is_a_conflict(pay_world):
    world = pay_world
    at = datetime(2025, 10, 20, tzinfo=UTC)
    draft = recipes.derivative_use(
        key="use-1",
        effective_at=at,
        currency="USD",
        price=12_500,
        commission_bps=2000,
        brand_id=BRAND,
        owners=[recipes.Owner(world.users["ben"], 1)],
    )
    with provided(Database, world.app).unit_of_work() as uow:
        chart.open_accounts_for(provided(Ledger, world.app), uow.session, [draft])
        provided(Ledger, world.app).post(uow.session, draft, now=at)
        uow.commit()
    world.emulator_clock.now = int(datetime(2025, 11, 2, tzinfo=UTC).timestamp())
    first = _invoice(world, "2025-10-01", "2025-11-01")
    assert first.exit_code == 0, first.output
    assert _invoice(world, "2025-10-01", "2025-11-01").exit_code == 0  # the same: the same checkout
    other = world.app.test_cli_runner().invoke(
        args=[
            "payments",
            "invoice-usage",
            "--brand",
            str(BRAND),
            "--currency",
            "usd",
            "--from",
            "2025-10-01",
            "--to",
            "2025-11-01",
            "--success-url",
            "https://elsewhere.example/paid",
            "--cancel-url",
            "https://lumen.example/back",
        ]
    )
    assert other.exit_code != 0 and "other return addresses" in other.output, other.output
    assert len(world.emulator.objects("checkout.session")) == 1
