"""The composition root: the one place that builds the app's collaborators.

``init_app`` builds them from the app's settings and registers each under the type
its users ask for (``app.kit.registry.provided``):

=====================  ==============================================================
``Database``           the engine and units of work (``DATABASE_URL``)
``Clock``              the time (``CLOCK`` in a test's config; the system clock otherwise)
``Ledger``             the book (``ledger.Ledger``; its only state is an account cache)
``PaymentGateway``     Stripe or the local emulator, from ``STRIPE_*``; built on first
                       use, so an app without Stripe settings starts and answers 503
                       where payments are needed (``PaymentsUnavailable``)
``WebhookHandlers``    which functions apply which Stripe events (filled by features)
``ExportTables``       every exportable table (filled by features)
``KeyStore``           the receipt-signing keys under ``RECEIPT_KEYS_DIR``
``FileStore``          uploaded previews and recordings under the instance folder
``Settler``            settlement runs with their settings (``SETTLEMENT_*``)
``Mailer``             SMTP from ``MAIL_URL`` (queued, not sent, when it is empty)
=====================  ==============================================================

Features never import this module: pages, API routes, commands and jobs ask the
registry for what they need and hand it to the services they call.  A test replaces
a collaborator with ``registry_of(app).provide(Type, fake)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.books import chart
from app.clock import Clock, system_clock
from app.db import Database
from app.kit.exports import ExportTables
from app.kit.registry import Registry, install
from app.mail.mailer import Mailer, make_mailer
from app.marketplace.storage import FileStore
from app.metering.receipts import KeyStore
from app.payments.backend import make_gateway
from app.payments.events import WebhookHandlers
from app.payments.gateway import GatewayAuthError, PaymentGateway
from app.payments.problems import PaymentsUnavailable
from app.settlement.service import RetryPolicy, Settler
from ledger import Ledger


def build(config: Mapping[str, Any]) -> Registry:
    """Every collaborator of an app with ``config``; nothing connects until first used."""
    registry = Registry()
    database = Database(config["DATABASE_URL"])
    ledger = Ledger(subject_key=chart.SUBJECT_KEY)
    registry.provide(Database, database)
    registry.provide(Clock, config.get("CLOCK") or system_clock)
    registry.provide(Ledger, ledger)
    registry.provide_lazily(PaymentGateway, lambda: _gateway(config))
    registry.provide(WebhookHandlers, WebhookHandlers())
    registry.provide(ExportTables, ExportTables())
    registry.provide(KeyStore, KeyStore(Path(config["RECEIPT_KEYS_DIR"])))
    registry.provide(FileStore, FileStore(Path(config["INSTANCE_PATH"]) / "uploads"))
    registry.provide(
        Settler,
        Settler(
            db=database,
            ledger=ledger,
            min_payout=config["SETTLEMENT_MIN_PAYOUT"],
            retry=config.get("SETTLEMENT_RETRY") or RetryPolicy(),
            workers=config["SETTLEMENT_WORKERS"],
            writes_per_second=config["SETTLEMENT_STRIPE_WRITES_PER_SECOND"] or None,
            lock_wait_seconds=config["SETTLEMENT_LOCK_WAIT_SECONDS"],
        ),
    )
    registry.provide(Mailer, make_mailer(config))
    return registry


def _gateway(config: Mapping[str, Any]) -> PaymentGateway:
    try:
        return make_gateway(config)
    except GatewayAuthError as exc:
        raise PaymentsUnavailable("Payments are not configured on this server (set STRIPE_SECRET_KEY).") from exc


def init_app(app: Flask) -> None:
    install(app, build(app.config))
