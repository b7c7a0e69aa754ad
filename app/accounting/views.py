"""Pages for accountants and admins: the reconciliation of a month, the list of
months with the close form, and each closed month's report (HTML and CSV).

Routes are thin: parse the period (a bad one is a 400 page that says what is
expected), call one service, render."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.kit.downloads import download
from app.kit.registry import provided
from app.kit.web import acting, now, role_required, submit
from app.payments.gateway import PaymentGateway

from . import close as closing
from .periods import month_of, period_in_address, previous_month
from .reconciliation import CATEGORIES, SECTIONS, UNIFORM, reconcile, records

bp = Blueprint("accounting", __name__, url_prefix="/accounting")
STAFF = ("accountant", "admin")
RECENT_MONTHS = 12


class ClosePeriodForm(FlaskForm):
    period = StringField("Period (YYYY-MM)", validators=[DataRequired(), Length(max=7)])
    override_reason = TextAreaField(
        "Reason to close although unreconciled (leave empty otherwise)",
        validators=[Optional(), Length(max=closing.MAX_REASON)],
    )


def _csv(body: str, filename: str) -> Response:
    return download(body, filename, "text/csv")


def _reconciliation(period_text: str | None):
    period = period_in_address(period_text or previous_month(now()).name)
    with acting() as (uow, actor):
        return reconcile(uow, actor, provided(PaymentGateway), period)


@bp.get("/reconciliation")
@role_required(*STAFF)
def reconciliation():
    result = _reconciliation(request.args.get("period"))
    tables = {name: {c: records(result.rows(name, c)) for c in CATEGORIES} for name in SECTIONS}
    columns = {name: list(result.sections[name].columns) for name in SECTIONS}
    return render_template(
        "accounting/reconciliation.html",
        result=result,
        summary=result.summary(),
        totals=result.totals(),
        tables=tables,
        columns=columns,
        categories=CATEGORIES,
        sections=SECTIONS,
    )


@bp.get("/reconciliation.csv")
@role_required(*STAFF)
def reconciliation_csv():
    result = _reconciliation(request.args.get("period"))
    return _csv(result.csv_bytes(), f"reconciliation-{result.period.name}.csv")


def _recent(today: datetime, closed: set[str]) -> list[tuple[str, bool]]:
    months, period = [], month_of(today)
    for _ in range(RECENT_MONTHS):
        period = previous_month(period.starts_at)
        months.append((period.name, period.name in closed))
    return months


def _periods_page(form: ClosePeriodForm) -> str:
    with acting() as (uow, actor):
        closes = closing.list_closes(uow, actor)
    recent = _recent(now(), {c.period for c in closes})
    return render_template("accounting/periods.html", closes=closes, recent=recent, form=form)


@bp.get("/periods")
@role_required(*STAFF)
def periods():
    form = ClosePeriodForm(data={"period": request.args.get("period") or previous_month(now()).name})
    return _periods_page(form)


@bp.post("/periods")
@role_required(*STAFF)
def close_period():
    form = ClosePeriodForm()
    return submit(
        form,
        lambda uow, actor: closing.close_period(
            uow, actor, provided(PaymentGateway), now(), form.period.data or "", form.override_reason.data
        ),
        done=lambda row: f"Period {row.period} is closed.",
        then=lambda row: url_for(".close_report", period=row.period),
        page=lambda: _periods_page(form),
        back=url_for(".periods", period=form.period.data),
    )


def _closed(period_text: str):
    wanted = period_in_address(period_text)
    with acting() as (uow, actor):
        return closing.close_report(uow, actor, wanted)


@bp.get("/periods/<period>")
@role_required(*STAFF)
def close_report(period: str):
    return render_template(
        "accounting/close_report.html",
        row=_closed(period),
        uniform=list(UNIFORM),
        categories=CATEGORIES,
        sections=SECTIONS,
    )


@bp.get("/periods/<period>/trial-balance.csv")
@role_required(*STAFF)
def close_report_csv(period: str):
    row = _closed(period)
    return _csv(closing.trial_balance_csv(row), f"trial-balance-{row.period}.csv")
