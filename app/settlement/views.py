"""Staff pages: settlement runs, a run's items and their state, and "retry failed items".

Accountants and admins see the runs; only admins may retry (it moves money).  The
retry form is a POST, so the app's CSRF guard checks it; the route is thin: parse,
call ``Settler.retry_failed``, flash the outcome, redirect.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlmodel import col

from app.db import Database
from app.errors import Problem
from app.kit.registry import provided
from app.kit.web import now, role_required
from app.payments.gateway import PaymentGateway

from .errors import SettlementError
from .models import ITEM_STATUSES, SettlementItem, SettlementRun
from .planning import InvalidPeriod, Period
from .service import Settler

bp = Blueprint("settlement", __name__, url_prefix="/staff/settlements")
PAGE_SIZE = 200


@bp.get("")
@role_required("accountant", "admin")
def runs():
    with provided(Database).unit_of_work() as uow:
        rows = uow.session.scalars(select(SettlementRun).order_by(col(SettlementRun.period).desc()).limit(120)).all()
        uow.session.expunge_all()
    return render_template("web/settlement_runs.html", runs=rows)


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except InvalidPeriod:
        abort(404)


@bp.get("/<period>")
@role_required("accountant", "admin")
def run(period: str):
    wanted = request.args.get("status") or None
    if wanted is not None and wanted not in ITEM_STATUSES:
        flash(f"Unknown status {wanted!r}: showing every item.", "error")
        wanted = None
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and int(page_arg) >= 1 else 1
    with provided(Database).unit_of_work() as uow:
        row = uow.session.scalars(
            select(SettlementRun).where(col(SettlementRun.period) == _period(period).name)
        ).first()
        if row is None:
            abort(404)
        query = select(SettlementItem).where(col(SettlementItem.run_id) == row.id)
        if wanted:
            query = query.where(col(SettlementItem.status) == wanted)
        items = uow.session.scalars(
            query.order_by(col(SettlementItem.id)).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        ).all()
        totals = uow.session.execute(
            select(
                col(SettlementItem.currency),
                col(SettlementItem.status),
                func.count(),
                func.sum(col(SettlementItem.amount)),
            )
            .where(col(SettlementItem.run_id) == row.id)
            .group_by(col(SettlementItem.currency), col(SettlementItem.status))
            .order_by(col(SettlementItem.currency), col(SettlementItem.status))
        ).all()
        uow.session.expunge_all()
    return render_template(
        "web/settlement_run.html",
        run=row,
        items=items[:PAGE_SIZE],
        totals=totals,
        status=wanted,
        statuses=ITEM_STATUSES,
        page=page,
        more=len(items) > PAGE_SIZE,
        can_retry=current_user.role == "admin",
    )


@bp.post("/<period>/retry")
@role_required("admin")
def retry(period: str):
    parsed = _period(period)
    try:
        report = provided(Settler).retry_failed(
            parsed, now=now(), actor=f"admin:{current_user.email}", gateway=provided(PaymentGateway)
        )
    except (SettlementError, Problem) as exc:
        flash(getattr(exc, "detail", None) or str(exc), "error")
    else:
        paid, failed = (report.run.paid_count, report.run.failed_count) if report.run is not None else (0, 0)
        flash(
            f"Retried: {paid} paid, {failed} still failed, {len(report.unfinished)} waiting on Stripe.",
            "error" if report.failed else "success",
        )
    return redirect(url_for("settlement.run", period=parsed.name), 303)
