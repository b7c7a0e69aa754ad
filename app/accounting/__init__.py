"""Accounting: reconciliation against Stripe and the monthly close (issue #7 items 2 and 3).

``periods``         months as half-open UTC ranges (``YYYY-MM``)
``reconciliation``  the ledger against Stripe in pandas: a pure matching core and the
                    service that gathers both sides
``close``           closing a month (reconciled, or overridden with a reason), its close
                    report, and corrections after the close as reversals in the next
                    open period
``views``/``cli``   pages under ``/accounting`` (accountants and admins) and the
                    ``cameo reconcile`` / ``cameo close-period`` commands

``init_app`` also turns the ledger's ``PeriodClosed`` refusal into a 409 problem
everywhere, so anything that tries to post into a closed month (a usage report, a
form) gets a clear answer instead of a 500, and nothing is written.
"""
from __future__ import annotations

from flask import Flask

from app.errors import Conflict
from app.reporting.tables import register_export_table
from ledger import PeriodClosed


class PeriodClosedProblem(Conflict):
    title = "Accounting period closed"


def init_app(app: Flask) -> None:
    from app.errors import _render

    from . import cli, views

    @app.errorhandler(PeriodClosed)
    def _period_closed(exc: PeriodClosed):
        return _render(PeriodClosedProblem(
            f"This would be booked in a closed accounting period ({exc}); nothing was recorded. "
            "Corrections go into the next open period.", code="period_closed"))

    app.register_blueprint(views.bp)
    cli.init_app(app)
    register_export_table(app, "reconciliation", reconciliation_frame, title="Reconciliation with Stripe",
                          needs_period=True, by_default=False)


def reconciliation_frame(conn, period):
    """Every reconciliation row of ``period`` (the ``reconciliation`` export); asks Stripe."""
    from sqlmodel import Session

    from app.payments.wiring import get_gateway

    from .reconciliation import reconcile_period

    with Session(bind=conn) as session:
        return reconcile_period(session, get_gateway(), period).uniform()
