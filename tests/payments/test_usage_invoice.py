"""Brand usage invoices: metered usage (the brand's receivable) for a period, invoiced through
Checkout from the CLI; the paid webhooks, duplicated and shuffled, post the payment once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.books import chart, recipes
from app.clock import Clock
from app.db import Database
from app.kit.registry import provided
from ledger import Ledger
from stripe_emulator.testing import emulator_clock, fast_sdk_retries, stripe_emulator
from tests.payments.harness import pay_world_any_db

BRAND = 2  # Lumen Studios


def _use(world, key: str, price: int, at: datetime) -> None:
    """What metering posts for one derivative use billed to the brand."""
    ledger = provided(Ledger, world.app)
    with provided(Database, world.app).unit_of_work() as uow:
        draft = recipes.derivative_use(
            key=key,
            effective_at=at,
            currency="USD",
            price=price,
            commission_bps=2000,
            brand_id=BRAND,
            owners=[recipes.Owner(world.users["ben"], 1)],
        )
        chart.open_accounts_for(ledger, uow.session, [draft])
        ledger.post(uow.session, draft, now=at)
        uow.commit()


def _invoice(world, start: str, end: str):
    return world.app.test_cli_runner().invoke(
        args=[
            "payments",
            "invoice-usage",
            "--brand",
            str(BRAND),
            "--currency",
            "usd",
            "--from",
            start,
            "--to",
            end,
            "--success-url",
            "https://lumen.example/paid",
            "--cancel-url",
            "https://lumen.example/back",
        ]
    )


def test_usage_invoice_paid_once_whatever_the_delivery(pay_world_any_db):
    world = pay_world_any_db
    world.emulator.set_available_delay(0)  # compares the ledger with Stripe's *available* balance at once
    now = provided(Clock, world.app)()
    october = datetime(2025, 10, 1, tzinfo=UTC)
    _use(world, "use-1", 1_000, october + timedelta(days=2))
    _use(world, "use-2", 2_500, october + timedelta(days=9))
    _use(world, "use-late", 700, now + timedelta(days=30))  # next period: not on this invoice
    receivable = chart.brand_receivable(BRAND, "USD")
    assert world.balance(receivable) == 4_200

    assert "no usage" in _invoice(world, "2025-09-01", "2025-10-01").output  # 409: nothing then
    result = _invoice(world, "2025-10-01", "2025-10-15")
    assert result.exit_code == 0, result.output
    assert "3500 USD" in result.output
    session_id = result.output.strip().splitlines()[-1].rsplit("/", 1)[-1]
    assert "already covers" in _invoice(world, "2025-10-10", "2025-10-12").output

    world.forward()
    world.emulator.pay_checkout_session(session_id)
    report = world.deliver(duplicate=True, shuffle=True)
    assert report.pending == 0
    paid = [key for key, kind in world.entries() if kind == "usage.invoice_paid"]
    assert len(paid) == 1 and paid[0].startswith("usage-invoice:")
    fee = 3_500 * 29 // 1000 + 30 + 1  # 2.9 % half-up (101.5 → 102) + 30
    assert world.balance(receivable) == 700
    assert world.balance("platform:stripe:USD") == 3_500 - fee == world.emulator.available_balance("usd")
    assert world.balance("platform:fees:stripe:USD") == fee
