"""Accountant reporting: the dashboard under ``/reports`` and the ``export`` CLI.

Everything here reads; nothing posts.  Sums are integer minor units computed by the
ledger (``ledger.reports``, ``ledger.exports``) and the marketplace's books
(``app.books``); this package adds authorisation (accountants and admins), people's
names and Stripe account ids, pages, charts (``charts``, SVG from matplotlib), CSV
downloads and the export files.  Tables that can be exported are looked up by name in
the export registry (``app.kit.exports``), where this package registers the journal's
and the dashboard's and other features register theirs.
"""

from __future__ import annotations

from flask import Flask

from app.books import reports as figures
from app.kit.exports import ExportTables
from app.kit.registry import provided
from ledger import exports

from . import cli, service, views

LEDGER_TABLE_TITLES = {
    "entries": "Journal entries",
    "postings": "Postings",
    "trial-balance": "Trial balance (at the period's end)",
}


def init_app(app: Flask) -> None:
    tables = provided(ExportTables, app)
    for name, title in LEDGER_TABLE_TITLES.items():
        tables.register(name, exports.LEDGER_TABLES[name], title=title)
    tables.register(
        "payouts", figures.payout_groups_frame, title="Payouts per transfer group (ledger side of reconciliation)"
    )
    tables.register("activity", service.activity_frame, title="Monthly activity (chart data)")
    tables.register("creators", service.creators_frame, title="Per-creator period totals", needs_period=True)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.export_command)
    app.cli.add_command(cli.export_payees_command)
