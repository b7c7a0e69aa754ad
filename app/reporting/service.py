"""Read services of the accountant dashboard and the exports.

Each takes the unit of work and the acting user (accountants and admins, or the
operator's CLI as ``SYSTEM``) and returns plain data; the routes and commands only
parse input and render.  Money arrives as integer minor units from the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from app.books import reports as books
from app.db import UnitOfWork
from app.errors import NotFound, Problem
from app.kit.exports import ExportTables
from app.payments.models import ConnectAccount
from app.people.actors import Actor
from app.people.models import User
from ledger import exports, reports
from ledger.models import account_table, entry_table, posting_table
from ledger.money import format_minor
from ledger.periods import Period
from ledger.types import as_utc

READERS = ("accountant", "admin", "system")
PER_PAGE = 50


class BadRequest(Problem):
    status = 400
    title = "Bad request"


def _may_read(actor: Actor) -> None:
    actor.require_role(*READERS)


@dataclass
class Paged:
    rows: list[Any]
    page: int
    pages: int
    total: int


def _paged(page: int, total: int) -> tuple[int, int]:
    pages = max(1, -(-total // PER_PAGE))
    if not 1 <= page <= pages:
        raise NotFound(f"There is no page {page}; pages run from 1 to {pages}.")
    return pages, (page - 1) * PER_PAGE


# ---------------------------------------------------------------- balances


def trial_balance(uow: UnitOfWork, actor: Actor, *, before: datetime | None) -> reports.TrialBalance:
    _may_read(actor)
    return reports.trial_balance(uow.session.connection(), before=before)


def accounts(uow: UnitOfWork, actor: Actor) -> list[reports.AccountBalance]:
    _may_read(actor)
    return reports.balances(uow.session.connection())


@dataclass
class AccountPage:
    account: reports.AccountBalance
    postings: Paged  # rows: (posting id, seq, key, kind, effective_at, memo, amount, balance after)


def account_page(uow: UnitOfWork, actor: Actor, code: str, *, page: int = 1) -> AccountPage:
    """One account and its postings, newest first, each with the balance after it."""
    _may_read(actor)
    conn = uow.session.connection()
    found = reports.balances(conn, codes=[code])
    if not found:
        raise NotFound(f"There is no account {code}.")
    account_id = conn.execute(select(account_table.c.id).where(account_table.c.code == code)).scalar_one()
    total = conn.execute(select(func.count()).where(posting_table.c.account_id == account_id)).scalar_one()
    pages, offset = _paged(page, total)
    order = (entry_table.c.effective_at, posting_table.c.entry_seq, posting_table.c.id)
    running = func.sum(posting_table.c.amount).over(order_by=order)
    inner = (
        select(
            posting_table.c.id,
            posting_table.c.entry_seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.memo,
            posting_table.c.amount,
            running.label("after"),
        )
        .join(entry_table, entry_table.c.seq == posting_table.c.entry_seq)
        .where(posting_table.c.account_id == account_id)
    ).subquery()
    rows = conn.execute(
        select(inner)
        .order_by(inner.c.effective_at.desc(), inner.c.entry_seq.desc(), inner.c.id.desc())
        .limit(PER_PAGE)
        .offset(offset)
    ).all()
    lines = [
        (pid, seq, key, kind, _aware(eff), memo, int(amount), int(after))
        for pid, seq, key, kind, eff, memo, amount, after in rows
    ]
    return AccountPage(found[0], Paged(lines, page, pages, total))


def account_page_frame(found: AccountPage):
    """The drill-down page as a table (integer amounts and the balance after each)."""
    cur = found.account.currency
    rows = [
        (pid, seq, key, kind, eff, memo, amount, after, format_minor(amount, cur), format_minor(after, cur))
        for pid, seq, key, kind, eff, memo, amount, after in found.postings.rows
    ]
    return exports.int_frame(
        rows,
        [
            "posting_id",
            "entry_seq",
            "entry_key",
            "entry_kind",
            "effective_at",
            "memo",
            "amount",
            "balance_after",
            "amount_decimal",
            "balance_after_decimal",
        ],
        integers=("posting_id", "entry_seq", "amount", "balance_after"),
    )


def _aware(value) -> datetime:
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


# ---------------------------------------------------------------- entries


@dataclass
class EntryView:
    seq: int
    key: str
    kind: str
    effective_at: datetime
    posted_at: datetime
    memo: str
    reverses_seq: int | None
    reversed_by: int | None
    meta: dict[str, Any]
    postings: list[tuple[str, str, int, str]]  # account code, type, amount, currency


def entry(uow: UnitOfWork, actor: Actor, seq: int) -> EntryView:
    _may_read(actor)
    conn = uow.session.connection()
    row = conn.execute(select(entry_table).where(entry_table.c.seq == seq)).first()
    if row is None:
        raise NotFound(f"There is no entry {seq}.")
    reversed_by = conn.execute(select(entry_table.c.seq).where(entry_table.c.reverses_seq == seq)).scalar()
    lines = conn.execute(
        select(account_table.c.code, account_table.c.type, posting_table.c.amount, posting_table.c.currency)
        .join(account_table, account_table.c.id == posting_table.c.account_id)
        .where(posting_table.c.entry_seq == seq)
        .order_by(posting_table.c.id)
    ).all()
    return EntryView(
        row.seq,
        row.idempotency_key,
        row.kind,
        row.effective_at,
        row.posted_at,
        row.memo,
        row.reverses_seq,
        reversed_by,
        dict(row.metadata or {}),
        [(code, type_, int(amount), cur) for code, type_, amount, cur in lines],
    )


def entries_page(uow: UnitOfWork, actor: Actor, *, period: Period | None, kind: str | None, page: int = 1) -> Paged:
    """Entries (newest first) with their per-currency debit totals."""
    _may_read(actor)
    conn = uow.session.connection()
    where = [exports.effective_within(entry_table.c.effective_at, period)]
    if kind:
        where.append(entry_table.c.kind == kind)
    total = conn.execute(select(func.count()).select_from(entry_table).where(*where)).scalar_one()
    pages, offset = _paged(page, total)
    heads = conn.execute(
        select(
            entry_table.c.seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.memo,
            entry_table.c.reverses_seq,
        )
        .where(*where)
        .order_by(entry_table.c.effective_at.desc(), entry_table.c.seq.desc())
        .limit(PER_PAGE)
        .offset(offset)
    ).all()
    moved: dict[int, list[tuple[int, str]]] = {}
    if heads:
        for seq, amount, cur in conn.execute(
            select(posting_table.c.entry_seq, func.sum(posting_table.c.amount), posting_table.c.currency)
            .where(posting_table.c.entry_seq.in_([h.seq for h in heads]), posting_table.c.amount > 0)
            .group_by(posting_table.c.entry_seq, posting_table.c.currency)
            .order_by(posting_table.c.currency)
        ):
            moved.setdefault(seq, []).append((int(amount), cur))
    return Paged([(h, moved.get(h.seq, [])) for h in heads], page, pages, total)


def entries_frame(uow: UnitOfWork, actor: Actor, *, period: Period | None, kind: str | None):
    _may_read(actor)
    frame = exports.entries_frame(uow.session.connection(), period)
    return frame[frame["kind"] == kind].reset_index(drop=True) if kind else frame


def entry_kinds(uow: UnitOfWork, actor: Actor) -> list[str]:
    _may_read(actor)
    return list(
        uow.session.connection().execute(select(entry_table.c.kind).distinct().order_by(entry_table.c.kind)).scalars()
    )


# ---------------------------------------------------------------- people


@dataclass(frozen=True)
class Payee:
    name: str
    email: str
    stripe_account_id: str


def payees(session: Session, creator_ids: Iterable[int]) -> dict[int, Payee]:
    ids = sorted(set(creator_ids))
    if not ids:
        return {}
    users = {u.id: u for u in session.exec(orm_select(User).where(col(User.id).in_(ids))).all()}
    stripe_ids = dict(
        session.exec(
            orm_select(ConnectAccount.creator_id, ConnectAccount.stripe_account_id).where(
                col(ConnectAccount.creator_id).in_(ids)
            )
        ).all()
    )
    return {
        cid: Payee(
            users[cid].display_name if cid in users else "",
            users[cid].email if cid in users else "",
            stripe_ids.get(cid, ""),
        )
        for cid in ids
    }


@dataclass
class CreatorRow:
    totals: books.CreatorPeriod
    payee: Payee


def creators(uow: UnitOfWork, actor: Actor, period: Period) -> list[CreatorRow]:
    """Every creator's payable over ``period`` (the statement's headline figures)."""
    _may_read(actor)
    rows = books.creator_period(uow.session.connection(), period)
    people = payees(uow.session, (r.creator_id for r in rows))
    return [CreatorRow(r, people[r.creator_id]) for r in rows]


def creators_frame(conn, period: Period | None):
    """Export builder: the per-creator period totals with names."""
    if period is None:
        raise BadRequest("The creators table needs a period.")
    rows = books.creator_period(conn, period)
    frame = books.creator_period_frame(rows)
    people = payees(Session(bind=conn), frame["creator_id"].astype(int).tolist())
    frame.insert(1, "name", [people[int(c)].name for c in frame["creator_id"]])
    frame.insert(2, "email", [people[int(c)].email for c in frame["creator_id"]])
    return frame


def payee_frame(uow: UnitOfWork, actor: Actor, year: int):
    """The annual per-payee totals (1099-style): who was paid how much, in each currency."""
    _may_read(actor)
    try:
        totals = books.payee_totals(uow.session.connection(), year)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    people = payees(uow.session, (t.creator_id for t in totals))
    data = [
        (
            year,
            t.creator_id,
            people[t.creator_id].name,
            people[t.creator_id].email,
            people[t.creator_id].stripe_account_id,
            t.currency,
            t.paid,
            format_minor(t.paid, t.currency),
            t.transfers,
            t.reversals,
        )
        for t in totals
    ]
    return exports.int_frame(
        data,
        [
            "year",
            "creator_id",
            "name",
            "email",
            "stripe_account_id",
            "currency",
            "paid",
            "paid_decimal",
            "transfers",
            "reversals",
        ],
        integers=("year", "creator_id", "paid", "transfers", "reversals"),
    )


# ---------------------------------------------------------------- activity and exports


def activity(uow: UnitOfWork, actor: Actor, *, before: datetime) -> list[books.MonthActivity]:
    _may_read(actor)
    return books.monthly_activity(uow.session.connection(), before=before)


def activity_frame(conn, period: Period | None):
    """Export builder: monthly activity through ``period`` (or through the last entry)."""
    before = period.ends_at if period else None
    if before is None:
        last = conn.execute(select(func.max(entry_table.c.effective_at))).scalar()
        before = Period.containing(last).ends_at if last else datetime(1970, 1, 1, tzinfo=UTC)
    return books.monthly_activity_frame(books.monthly_activity(conn, before=before))


def check_tables(tables: ExportTables, names: Iterable[str] | None, period: Period | None) -> list[str]:
    """The tables to export: the named ones (all that fit the period when ``None``)."""
    known = tables.all()
    if names is None:
        return [n for n, t in known.items() if t.by_default and (period is not None or not t.needs_period)]
    chosen = [n.strip() for n in names if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        raise BadRequest(f"Unknown table {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}.")
    lacking = [n for n in chosen if known[n].needs_period and period is None]
    if lacking:
        raise BadRequest(f"{', '.join(lacking)} needs a period (YYYY-MM).")
    return chosen


def build_tables(
    uow: UnitOfWork, actor: Actor, tables: ExportTables, names: Iterable[str] | None, period: Period | None
) -> dict[str, Any]:
    _may_read(actor)
    known = tables.all()
    conn = uow.session.connection()
    return {name: known[name].build(conn, period) for name in check_tables(tables, names, period)}


def write_beancount(uow: UnitOfWork, actor: Actor, out: TextIO, period: Period | None) -> int:
    _may_read(actor)
    return exports.write_beancount(uow.session.connection(), out, period=period, title="Cameo Exchange ledger")
