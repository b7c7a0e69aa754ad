"""Reporting's hooks into the app: the ``/reports`` blueprint, the export table
registry (the ledger's tables and the dashboard's) and the ``export`` commands."""
from __future__ import annotations

from flask import Flask

from ledger import exports

from .tables import register_export_table


def init_app(app: Flask) -> None:
    from . import cli, service, views  # noqa: F401 — views registers its routes on bp
    from . import bp

    for name, title in (("entries", "Journal entries"), ("postings", "Postings"),
                        ("trial-balance", "Trial balance (at the period's end)"),
                        ("payouts", "Payouts per transfer group (ledger side of reconciliation)")):
        register_export_table(app, name, exports.LEDGER_TABLES[name], title=title)
    register_export_table(app, "activity", service.activity_frame, title="Monthly activity (chart data)")
    register_export_table(app, "creators", service.creators_frame, title="Per-creator period totals",
                          needs_period=True)
    app.register_blueprint(bp)
    cli.init_app(app)
