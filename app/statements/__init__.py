"""Creator statements (issue #6.4): per creator, per month, per currency.

The figures come from ``ledger.statements`` (journal only; closing checked against
the ledger's balance every time); ``service`` decides who may read which statement
and names the licences, cameos and brands; ``exports`` lays the statement out as
rows shared by the page, the CSV and the PDF; ``views`` are the pages:

  /statements                          a creator's periods (staff: the creators)
  /statements/<creator_id>             one creator's periods (staff, or that creator)
  /statements/<YYYY-MM>[.csv|.pdf]     the logged-in creator's statement (?currency=EUR)
  /statements/<creator_id>/<YYYY-MM>[.csv|.pdf]   any creator's, for accountants and admins
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("statements", __name__, url_prefix="/statements")


def init_app(app: Flask) -> None:
    from app.reporting.tables import register_export_table

    from . import views  # noqa: F401 — registers the routes
    from .exports import period_frame

    app.register_blueprint(bp)
    register_export_table(app, "statements", period_frame, title="Creator statements (every line, every creator)",
                          needs_period=True)
