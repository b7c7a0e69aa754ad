"""Settlement: paying creators what a period left payable, through Stripe Connect transfers.

``planning``   what each creator is owed for a period, in one set-based SQL pass; reserves; decisions
``service``    ``Settler``: the run (one per period, under a lock) and each item's checkpointed payment
``reversals``  ``transfer.reversed`` / ``transfer.updated`` webhooks take reversed amounts back
``locks``      the process-bound lock (PostgreSQL advisory lock, SQLite ``flock``)
``models``     ``settlement_run`` and ``settlement_item`` (migration 0007_settlement)
``jobs``       the scheduler's monthly run
``cli``        ``cameo settle --period YYYY-MM [--dry-run] [--retry-failed]``
``views``      the staff pages under ``/staff/settlements``
"""

from __future__ import annotations

from flask import Flask

from app.kit.registry import provided
from app.payments.events import WebhookHandlers

from . import cli, reversals, views


def init_app(app: Flask) -> None:
    reversals.register_handlers(provided(WebhookHandlers, app))
    app.cli.add_command(cli.settle_command)
    app.register_blueprint(views.bp)
