"""Routes of the accountant dashboard: parse the query string, call one service, render
the page or hand back a CSV / export file.  Accountants and admins only."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request, url_for

from app.books import reports as books
from app.errors import NotFound
from app.kit import csvfile
from app.kit.downloads import download
from app.kit.exports import BOOK, FORMATS, ExportTables, UnknownFormat, export_format, tables_file
from app.kit.registry import provided
from app.kit.web import acting, now, role_required
from ledger import exports
from ledger.periods import Period

from . import service
from .charts import SERIES_LABELS, activity_svg
from .service import BadRequest

bp = Blueprint("reporting", __name__, url_prefix="/reports")
STAFF = ("accountant", "admin")
CHART_MONTHS = 12


def _as_of() -> tuple[date, datetime]:
    """``?as_of=YYYY-MM-DD`` (default today): the day, and the instant after its end."""
    text = request.args.get("as_of", "").strip()
    try:
        day = date.fromisoformat(text) if text else now().astimezone(UTC).date()
    except ValueError:
        raise BadRequest(f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-10-31.") from None
    return day, datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _optional_period(name: str = "period") -> Period | None:
    """The month asked for (400 if it is no month), None when none is."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _period(name: str = "period") -> Period:
    """The month asked for, this month when none is."""
    asked = _optional_period(name)
    return asked if asked is not None else Period.containing(now())


def _page() -> int:
    text = request.args.get("page", "1")
    if not text.isdigit() or int(text) < 1:
        raise BadRequest(f"{text!r} is not a page number.")
    return int(text)


def _wants_csv() -> bool:
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "csv"):
        raise BadRequest(f"{fmt!r} is not a format here: html or csv.")
    return fmt == "csv"


def _csv(frame, filename: str) -> Response:
    return download(csvfile.frame_bytes(frame), filename, "text/csv")


def _activity():
    """The monthly activity up to ``?as_of`` (the day, the instant after it, the rows)."""
    day, before = _as_of()
    with acting() as (uow, actor):
        return day, before, service.activity(uow, actor, before=before)


@bp.get("/")
@role_required(*STAFF)
def dashboard():
    day, before, rows = _activity()
    currencies = sorted({r.currency for r in rows})
    recent = {cur: [r for r in rows if r.currency == cur][-CHART_MONTHS:] for cur in currencies}
    return render_template(
        "reporting/dashboard.html",
        day=day,
        currencies=currencies,
        recent=recent,
        series=SERIES_LABELS,
        period=Period.containing(before - timedelta(microseconds=1)),
    )


@bp.get("/charts/<currency>.svg")
@role_required(*STAFF)
def chart(currency: str):
    rows = [r for r in _activity()[2] if r.currency == currency]
    if not rows:
        raise NotFound(f"No activity in {currency!r}.")
    return Response(activity_svg(rows[-CHART_MONTHS:], currency), mimetype="image/svg+xml")


@bp.get("/activity.csv")
@role_required(*STAFF)
def activity_csv():
    day, _, rows = _activity()
    return _csv(books.monthly_activity_frame(rows), f"activity-to-{day}.csv")


@bp.get("/trial-balance")
@role_required(*STAFF)
def trial_balance():
    day, before = _as_of()
    csv = _wants_csv()
    with acting() as (uow, actor):
        tb = service.trial_balance(uow, actor, before=before)
    if csv:
        return _csv(exports.balances_frame(tb.rows), f"trial-balance-{day}.csv")
    return render_template("reporting/trial_balance.html", tb=tb, day=day)


@bp.get("/accounts")
@role_required(*STAFF)
def accounts():
    csv = _wants_csv()
    with acting() as (uow, actor):
        rows = service.accounts(uow, actor)
    if csv:
        return _csv(exports.balances_frame(rows), "accounts.csv")
    return render_template("reporting/accounts.html", rows=rows)


@bp.get("/accounts/<code>")
@role_required(*STAFF)
def account(code: str):
    csv = _wants_csv()
    page = _page()
    with acting() as (uow, actor):
        found = service.account_page(uow, actor, code, page=page)
    if csv:
        return _csv(service.account_page_frame(found), f"account-{code.replace(':', '_')}-page{page}.csv")
    return render_template("reporting/account.html", found=found)


@bp.get("/entries")
@role_required(*STAFF)
def entries():
    period = _optional_period()
    kind = request.args.get("kind", "").strip() or None
    csv = _wants_csv()
    with acting() as (uow, actor):
        if csv:
            frame = service.entries_frame(uow, actor, period=period, kind=kind)
            return _csv(frame, f"entries-{period.name if period else 'all'}.csv")
        found = service.entries_page(uow, actor, period=period, kind=kind, page=_page())
        kinds = service.entry_kinds(uow, actor)
    return render_template("reporting/entries.html", found=found, period=period, kind=kind, kinds=kinds)


@bp.get("/entries/<int:seq>")
@role_required(*STAFF)
def entry(seq: int):
    with acting() as (uow, actor):
        found = service.entry(uow, actor, seq)
    return render_template("reporting/entry.html", e=found)


@bp.get("/creators")
@role_required(*STAFF)
def creators():
    period = _period()
    csv = _wants_csv()
    with acting() as (uow, actor):
        if csv:
            frame = service.build_tables(uow, actor, provided(ExportTables), ["creators"], period)["creators"]
            return _csv(frame, f"creators-{period.name}.csv")
        rows = service.creators(uow, actor, period)
    return render_template("reporting/creators.html", rows=rows, period=period)


@bp.get("/exports")
@role_required(*STAFF)
def exports_page():
    return render_template(
        "reporting/exports.html",
        tables=provided(ExportTables).all(),
        formats=FORMATS,
        period=Period.containing(now()),
        year=now().year,
    )


@bp.get("/exports/download")
@role_required(*STAFF)
def export_download():
    try:
        fmt = export_format(request.args.get("format", ""))
    except UnknownFormat as exc:
        raise BadRequest(f"{exc}.") from None
    period = _optional_period()
    stem = f"cameo-{period.name if period else 'ledger'}"
    with acting() as (uow, actor):
        if fmt.holds == BOOK:
            text = io.StringIO()
            service.write_beancount(uow, actor, text, period)
            return download(text.getvalue(), fmt.filename(stem), fmt.media_type)
        names = request.args.getlist("tables") or None
        tables = service.build_tables(uow, actor, provided(ExportTables), names, period)
    return download(*tables_file(tables, fmt, stem))


@bp.get("/exports/payees")
@role_required(*STAFF)
def payees_csv():
    text = request.args.get("year", "")
    if not text.isdigit():
        raise BadRequest(f"{text!r} is not a year, e.g. 2026.")
    with acting() as (uow, actor):
        frame = service.payee_frame(uow, actor, int(text))
    return _csv(frame, f"payees-{text}.csv")


@bp.app_template_global("statement_url")
def statement_url(creator_id: int, period: Period) -> str:
    """The per-creator statement page, served by the statements subsystem."""
    return url_for("statements.creator_statement", creator_id=creator_id, period_file=period.name)
