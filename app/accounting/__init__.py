"""Accounting: reconciliation against Stripe and the monthly close.

``periods``         months as half-open UTC ranges (``YYYY-MM``) in addresses and forms
``reconciliation``  the ledger against Stripe in pandas: a pure matching core and the
                    service that gathers both sides
``close``           closing a month (reconciled, or overridden with a reason), its close
                    report, and corrections after the close as reversals in the next
                    open period
``views``/``cli``   pages under ``/accounting`` (accountants and admins) and the
                    ``cameo reconcile`` / ``cameo close-period`` commands
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Connection
from sqlmodel import Session

from app.kit.exports import ExportTables
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from ledger.periods import Period

from . import cli, views
from .reconciliation import reconcile_period


def reconciliation_frame(conn: Connection, period: Period | None):
    """Every reconciliation row of ``period`` (the ``reconciliation`` export); asks Stripe."""
    if period is None:  # registered with needs_period, so the registry never asks for the whole book
        raise ValueError("reconciliation needs a period")
    with Session(bind=conn) as session:
        return reconcile_period(session, provided(PaymentGateway), period).uniform()


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.reconcile_command)
    app.cli.add_command(cli.close_period_command)
    provided(ExportTables, app).register(
        "reconciliation", reconciliation_frame, title="Reconciliation with Stripe", needs_period=True, by_default=False
    )
