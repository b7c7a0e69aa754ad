"""Statement pages and downloads (thin: parse, one service call, render)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.errors import NotFound
from app.kit.downloads import download
from app.kit.web import acting, now, role_required

from . import exports, service

bp = Blueprint("statements", __name__, url_prefix="/statements")
FORMATS = ("", "csv", "pdf")


@bp.get("")
@role_required("creator", "accountant", "admin")
def index():
    with acting() as (uow, actor):
        if actor.is_staff:
            return render_template("statements/creators.html", creators=service.creators(uow, actor))
        months = service.periods(uow, actor, actor.user_id)
        name = None
    return render_template("statements/periods.html", months=months, creator_id=None, creator_name=name)


@bp.get("/<int:creator_id>")
@role_required("creator", "accountant", "admin")
def creator_periods(creator_id: int):
    with acting() as (uow, actor):
        months = service.periods(uow, actor, creator_id)
        name = service.readable_creator(uow, actor, creator_id).display_name
    return render_template("statements/periods.html", months=months, creator_id=creator_id, creator_name=name)


def _statement(creator_id: int | None, period_file: str):
    period, _, extension = period_file.partition(".")
    if extension not in FORMATS:
        raise NotFound("A statement is a page, a .csv or a .pdf download.")
    with acting() as (uow, actor):
        cs = service.creator_statement(
            uow,
            actor,
            now(),
            actor.user_id if creator_id is None else creator_id,
            period,
            request.args.get("currency") or None,
        )
    if extension == "csv":
        return download(exports.as_csv(cs), exports.filename(cs, "csv"), "text/csv")
    if extension == "pdf":
        return download(exports.as_pdf(cs, now=now()), exports.filename(cs, "pdf"), "application/pdf")
    return render_template(
        "statements/statement.html", cs=cs, rows=exports.rows(cs), notes=exports.notes(cs), by_id=creator_id is not None
    )


@bp.get("/<period_file>")
@role_required("creator", "accountant", "admin")
def own_statement(period_file: str):
    return _statement(None, period_file)


@bp.get("/<int:creator_id>/<period_file>")
@role_required("creator", "accountant", "admin")
def creator_statement(creator_id: int, period_file: str):
    return _statement(creator_id, period_file)
