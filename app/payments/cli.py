"""``cameo payments retry-events`` and ``cameo payments invoice-usage``."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.clock import Clock
from app.db import Database, get_existing
from app.errors import Problem
from app.kit.registry import provided
from ledger import Ledger

from .events import EventContext, RetryReport, WebhookHandlers, retry_pending
from .gateway import PaymentGateway
from .models import StripeEvent
from .usage_invoices import invoice_brand_usage

payments_cli = AppGroup("payments", help="Stripe payments and webhooks.")


def retry_events(*, limit: int = 500, include_parked: bool = False) -> RetryReport:
    """Process the stored Stripe events that are not processed yet (this command and the scheduler)."""
    return retry_pending(
        provided(Database), provided(WebhookHandlers), event_context, limit=limit, include_parked=include_parked
    )


def event_context() -> EventContext:
    """What a webhook handler may use, as of the app clock's now."""
    return EventContext(gateway=provided(PaymentGateway), ledger=provided(Ledger), now=provided(Clock)())


@payments_cli.command("retry-events")
@click.option("--limit", default=500, show_default=True, help="At most this many events.")
@click.option(
    "--include-parked",
    is_flag=True,
    help="Also retry events parked after too many failed attempts (once the cause is fixed).",
)
def retry_events_command(limit: int, include_parked: bool) -> None:
    """Process stored Stripe webhook events that could not be applied yet."""
    report = retry_events(limit=limit, include_parked=include_parked)
    click.echo(
        f"processed {len(report.processed)} events; {len(report.pending)} still pending; {len(report.parked)} parked"
    )
    with provided(Database).unit_of_work() as uow:
        for label, event_ids in (("pending", report.pending), ("parked", report.parked)):
            for event_id in event_ids:
                row = get_existing(uow.session, StripeEvent, event_id)
                click.echo(f"{label} {event_id} {row.type} (attempts {row.attempts}): {row.last_error}")


def _when(_ctx, _param, value: str) -> datetime:
    """An ISO date (its midnight, UTC) or date-time (naive = UTC)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@payments_cli.command("invoice-usage")
@click.option("--brand", "brand_org_id", type=int, required=True, help="The brand organisation's id.")
@click.option("--currency", required=True)
@click.option("--from", "period_start", required=True, callback=_when, help="Period start (ISO date or date-time).")
@click.option("--to", "period_end", required=True, callback=_when, help="Period end, exclusive.")
@click.option("--success-url", required=True)
@click.option("--cancel-url", required=True)
def invoice_usage_command(brand_org_id, currency, period_start, period_end, success_url, cancel_url) -> None:
    """Invoice a brand's metered usage for a period; prints the Checkout URL to send them."""
    try:
        with provided(Database).unit_of_work() as uow:
            started = invoice_brand_usage(
                uow,
                provided(Clock)(),
                brand_org_id=brand_org_id,
                currency=currency.upper(),
                period_start=period_start,
                period_end=period_end,
                gateway=provided(PaymentGateway),
                success_url=success_url,
                cancel_url=cancel_url,
            )
            uow.commit()
    except Problem as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        raise click.ClickException(" ".join(filter(None, [exc.detail or exc.title, details]))) from None
    click.echo(f"usage invoice #{started.invoice_id}: {started.amount} {started.currency} (minor units)")
    click.echo(started.url or started.checkout_session_id)
