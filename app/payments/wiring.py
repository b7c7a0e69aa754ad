"""The app's handle on payments: the gateway, the webhook endpoint, the checkout route, the CLI.

The gateway is built from configuration (``make_gateway(app.config)``) on first use
and kept in ``app.extensions["cameo.gateway"]`` — one place, the same code for the
local emulator and for Stripe; an app without Stripe settings starts fine and only
fails (503) when something needs the gateway.  A test may put its own gateway there.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.db import get_db
from app.errors import Problem
from app.ledger_service import get_ledger

from . import make_gateway
from .events import EventContext, RetryReport, retry_pending
from .gateway import GatewayAuthError, PaymentGateway

EXTENSION = "cameo.gateway"
_lock = threading.Lock()


class PaymentsUnavailable(Problem):
    status = 503
    title = "Payments unavailable"


def get_gateway(app: Flask | None = None) -> PaymentGateway:
    app = app or current_app._get_current_object()
    gateway = app.extensions.get(EXTENSION)
    if gateway is None:
        with _lock:
            gateway = app.extensions.get(EXTENSION)
            if gateway is None:
                try:
                    gateway = make_gateway(app.config)
                except GatewayAuthError as exc:
                    raise PaymentsUnavailable("Payments are not configured on this server.") from exc
                app.extensions[EXTENSION] = gateway
    return gateway


def event_context(app: Flask | None = None) -> EventContext:
    app = app or current_app._get_current_object()
    return EventContext(gateway=get_gateway(app), ledger=get_ledger(app), now=app.config["CLOCK"]())


def retry_events(app: Flask, *, limit: int = 500, include_parked: bool = False) -> RetryReport:
    """Process the stored Stripe events that are not processed yet (CLI and scheduler)."""
    return retry_pending(get_db(app), lambda: event_context(app), limit=limit, include_parked=include_parked)


payments_cli = AppGroup("payments", help="Stripe payments and webhooks.")


@payments_cli.command("retry-events")
@click.option("--limit", default=500, show_default=True, help="At most this many events.")
@click.option("--include-parked", is_flag=True,
              help="Also retry events parked after too many failed attempts (once the cause is fixed).")
def retry_events_command(limit: int, include_parked: bool) -> None:
    """Process stored Stripe webhook events that could not be applied yet."""
    report = retry_events(current_app._get_current_object(), limit=limit, include_parked=include_parked)
    click.echo(f"processed {len(report.processed)} events; {len(report.pending)} still pending; "
               f"{len(report.parked)} parked")
    from .models import StripeEvent

    with get_db().unit_of_work() as uow:
        for label, event_ids in (("pending", report.pending), ("parked", report.parked)):
            for event_id in event_ids:
                row = uow.session.get(StripeEvent, event_id)
                click.echo(f"{label} {event_id} {row.type} (attempts {row.attempts}): {row.last_error}")


def _when(_ctx, _param, value: str) -> datetime:
    """An ISO date (its midnight, UTC) or date-time (naive = UTC)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@payments_cli.command("invoice-usage")
@click.option("--brand", "brand_org_id", type=int, required=True, help="The brand organisation's id.")
@click.option("--currency", required=True)
@click.option("--from", "period_start", required=True, callback=_when, help="Period start (ISO date or date-time).")
@click.option("--to", "period_end", required=True, callback=_when, help="Period end, exclusive.")
@click.option("--success-url", required=True)
@click.option("--cancel-url", required=True)
def invoice_usage_command(brand_org_id, currency, period_start, period_end, success_url, cancel_url) -> None:
    """Invoice a brand's metered usage for a period; prints the Checkout URL to send them."""
    from .usage_invoices import invoice_brand_usage

    app = current_app._get_current_object()
    try:
        with get_db(app).unit_of_work() as uow:
            started = invoice_brand_usage(uow, app.config["CLOCK"](), brand_org_id=brand_org_id,
                                          currency=currency.upper(), period_start=period_start,
                                          period_end=period_end, gateway=get_gateway(app),
                                          success_url=success_url, cancel_url=cancel_url)
            uow.commit()
    except Problem as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        raise click.ClickException(" ".join(filter(None, [exc.detail or exc.title, details]))) from None
    click.echo(f"usage invoice #{started.invoice_id}: {started.amount} {started.currency} (minor units)")
    click.echo(started.url or started.checkout_session_id)


def init_app(app: Flask) -> None:
    from . import connect, licence_payments, usage_invoices  # noqa: F401 — register their webhook handlers
    from .api import payments_api
    from .webhooks import bp

    from app.api.ratelimit import limit_api

    app.register_blueprint(bp)
    limit_api(app, payments_api)
    app.register_api(payments_api)
    app.cli.add_command(payments_cli)
