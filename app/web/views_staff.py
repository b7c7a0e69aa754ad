"""The read-only overview for accountants and admins (the accounting issue extends it)."""

from __future__ import annotations

from flask import render_template

from app.kit.web import acting, role_required

from . import queries
from .blueprint import bp


@bp.get("/overview")
@role_required("accountant", "admin")
def overview():
    with acting() as (uow, actor):
        summary = queries.overview(uow, actor)
    return render_template("web/overview.html", summary=summary)
