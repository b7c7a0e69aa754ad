"""Payments: money in through Stripe Checkout, Connect onboarding, webhooks.

``gateway``           the one payment interface (``PaymentGateway``), its value types and errors
``backend``           the gateway chosen by configuration (``make_gateway``)
``stripe_gateway``    the Stripe implementation — the only module that imports ``stripe``
``events``            the webhook inbox: store each event once, apply it through its handlers
``licence_payments``  licence fees through Checkout; refunds and disputes
``usage_invoices``    invoicing a brand's metered usage
``connect``           creators' Stripe Express accounts and payout eligibility
``payout_status``     why a creator can or cannot be paid, in words
``problems``          gateway errors as HTTP problems
``webhooks`` / ``api`` / ``cli``   POST /webhooks/stripe, the payments API, ``cameo payments …``
"""

from __future__ import annotations

from flask import Flask

from app.kit.api import register_api
from app.kit.registry import provided

from . import api, cli, connect, licence_payments, usage_invoices, webhooks
from .events import WebhookHandlers


def init_app(app: Flask) -> None:
    handlers = provided(WebhookHandlers, app)
    for feature in (licence_payments, usage_invoices, connect):
        feature.register_handlers(handlers)
    app.register_blueprint(webhooks.bp)
    register_api(app, api.payments_api)
    app.cli.add_command(cli.payments_cli)
