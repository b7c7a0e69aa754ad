"""Creator statements: per creator, per month, per currency.

The figures come from the marketplace's books (``app.books.statements``: journal only,
closing checked against the ledger's balance every time); ``service`` decides who may
read which statement and names the licences, cameos and brands; ``exports`` lays the
statement out as rows shared by the page, the CSV and the PDF; ``views`` are the pages:

  /statements                          a creator's periods (staff: the creators)
  /statements/<creator_id>             one creator's periods (staff, or that creator)
  /statements/<YYYY-MM>[.csv|.pdf]     the logged-in creator's statement (?currency=EUR)
  /statements/<creator_id>/<YYYY-MM>[.csv|.pdf]   any creator's, for accountants and admins
"""

from __future__ import annotations

from flask import Flask

from app.kit.exports import ExportTables
from app.kit.registry import provided

from . import exports, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    provided(ExportTables, app).register(
        "statements", exports.period_frame, title="Creator statements (every line, every creator)", needs_period=True
    )
