"""Closing a month, its close report, and corrections after the close.

``close_period`` (accountants and admins):

1. refuses a month that has not ended, or is closed already;
2. fetches Stripe's side of the reconciliation first (network calls, no journal lock);
3. closes the month in the ledger (``ledger.periods.close_period``: on PostgreSQL a
   ``SHARE`` lock on the journal, so no entry can commit into the month from here on;
   on SQLite the transaction already holds the one writer lock) and only then reads
   the ledger's side, so the reconciliation, the trial balance and the lock all see
   the same journal;
4. refuses when anything is unmatched unless the accountant gives a reason to
   override — the refusal rolls the lock back with everything else;
5. stores the close report (``accounting_period_close``) and an audit event, in the
   same transaction as the lock.  Beside the trial balance (by effective date: what the
   books held at the month's end) the report says what creators were owed after the
   period's own payout run — the same figures as their statements, where a payout
   belongs to the period it settles (``app.books.periods``) — and lists the period's
   **prior-period adjustments**: late money booked in it whose own date fell in a
   month already closed (``ledger.periods.booked_when_open``).

After the close the database refuses every entry effective inside the month (the
ledger's trigger).  ``correct_entry`` is the way to fix a mistake found later: it
reverses the entry with ``effective_at`` at the first open moment (now, or the end of
the closed months ``now`` falls in), so the correction lands in the next open period
and the closed month's figures never change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel import select as sm_select

from app.books import chart
from app.books.reports import creator_period
from app.db import UnitOfWork, id_of
from app.errors import Conflict, NotFound, ValidationProblem
from app.kit import csvfile
from app.payments.gateway import PaymentError, PaymentGateway
from app.people import audit
from app.people.actors import Actor
from app.people.models import User
from ledger import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientBalance,
    Ledger,
    LedgerError,
    PostedEntry,
    reports,
)
from ledger import periods as ledger_periods
from ledger.canonical import iso_utc
from ledger.models import account_table, closed_period_table, entry_table, posting_table

from .models import PeriodClose
from .periods import Period, parse_period
from .reconciliation import (
    fetch_stripe_side,
    match_sides,
    provider_problem,
    read_ledger_side,
)

CLOSERS = ("accountant", "admin")
MAX_REASON = 2000
TRIAL_BALANCE_COLUMNS = ("account", "name", "type", "currency", "opening", "movement", "closing", "debit", "credit")


class NotReconciled(Conflict):
    title = "Period not reconciled"


def _closer_name(uow: UnitOfWork, actor: Actor) -> str:
    user = uow.session.get(User, actor.user_id) if actor.user_id else None
    return user.email if user is not None else f"{actor.role}:{actor.user_id}"


def _clean_reason(override_reason: str | None) -> str | None:
    reason = (override_reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationProblem(errors={"override_reason": f"at most {MAX_REASON} characters"})
    return reason or None


def is_closed(uow: UnitOfWork, period: Period) -> bool:
    found = uow.session.execute(
        select(closed_period_table.c.id).where(closed_period_table.c.name == period.name)
    ).first()
    return (
        found is not None
        or uow.session.exec(sm_select(PeriodClose.id).where(PeriodClose.period == period.name)).first() is not None
    )


def close_period(
    uow: UnitOfWork,
    actor: Actor,
    gateway: PaymentGateway,
    now: datetime,
    period: str | Period,
    override_reason: str | None = None,
) -> PeriodClose:
    """Close ``period`` and store its close report; the caller commits."""
    actor.require_role(*CLOSERS)
    period = parse_period(period) if isinstance(period, str) else period
    reason = _clean_reason(override_reason)
    if now < period.ends_at:
        raise Conflict(f"Period {period.name} has not ended yet (it ends {iso_utc(period.ends_at)}).")
    if is_closed(uow, period):
        raise Conflict(f"Period {period.name} is already closed.")
    session = uow.session
    try:
        first_look = read_ledger_side(session, period)
        stripe = fetch_stripe_side(gateway, period, first_look.payouts, first_look.sales)
    except PaymentError as exc:
        raise provider_problem(exc) from exc
    closed_by = _closer_name(uow, actor)
    try:
        lock = ledger_periods.close_period(
            session, name=period.name, starts_at=period.starts_at, ends_at=period.ends_at, closed_by=closed_by, now=now
        )
    except LedgerError as exc:
        raise Conflict(f"Period {period.name} cannot be closed: {exc}.") from exc
    result = match_sides(period, read_ledger_side(session, period, stripe), stripe)
    if not result.reconciled and reason is None:
        raise NotReconciled(
            f"Period {period.name} is not reconciled: {result.unmatched_count} unmatched row(s). "
            "Resolve them, or give a reason to override.",
            unmatched=result.totals(),
        )
    trial = trial_balance_report(uow, period)
    row = PeriodClose(
        period=period.name,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        closed_at=now,
        closed_by=closed_by,
        closed_by_user_id=actor.user_id or None,
        override_reason=reason,
        ledger_period_id=id_of(lock),
        unmatched_count=result.unmatched_count,
        trial_balance={
            **trial,
            "creators": creators_after_settlement(uow, period, trial),
            "prior_period_adjustments": prior_period_adjustments(uow, period),
        },
        reconciliation=result.report(),
        **_counts(uow, period),
    )
    session.add(row)
    session.flush()
    audit.record(
        uow,
        actor,
        now,
        "period.close",
        "accounting_period",
        id_of(row),
        to_status="closed",
        period=period.name,
        override_reason=reason,
        unmatched=result.unmatched_count,
    )
    return row


def _counts(uow: UnitOfWork, period: Period) -> dict[str, int]:
    in_period = (entry_table.c.effective_at >= period.starts_at, entry_table.c.effective_at < period.ends_at)
    entries = uow.session.execute(select(func.count()).select_from(entry_table).where(*in_period)).scalar_one()
    postings = uow.session.execute(
        select(func.count())
        .select_from(posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq))
        .where(*in_period)
    ).scalar_one()
    return {"entry_count": int(entries), "posting_count": int(postings)}


def trial_balance_report(uow: UnitOfWork, period: Period) -> dict[str, Any]:
    """Every account's opening, movement and closing balance (signed, debits positive) and
    the trial balance at the period's end, as integers."""
    conn = uow.session.connection()
    opening = {b.code: b.amount for b in reports.balances(conn, before=period.starts_at)}
    closing = reports.trial_balance(conn, before=period.ends_at)
    rows = []
    for b in closing.rows:
        start = opening.get(b.code, 0)
        if start == 0 and b.amount == 0:
            continue
        rows.append(
            dict(
                account=b.code,
                name=b.name,
                type=b.type,
                currency=b.currency,
                opening=start,
                movement=b.amount - start,
                closing=b.amount,
                debit=b.debit,
                credit=b.credit,
            )
        )
    totals = {cur: {"debit": d, "credit": c} for cur, (d, c) in closing.totals().items() if d or c}
    return {"before": iso_utc(period.ends_at), "rows": rows, "totals": totals, "balanced": closing.balanced}


def creators_after_settlement(uow: UnitOfWork, period: Period, trial: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per currency, what creators were owed: at the period's end (the trial balance), what
    the period's own settlement run paid them (dated after the end, it belongs to this
    period) and what is carried forward after it — the sum of their statements' closing
    payables."""
    at_end: dict[str, int] = {}
    for row in trial["rows"]:
        if chart.creator_account(row["account"], "payable") is not None:
            at_end[row["currency"]] = at_end.get(row["currency"], 0) - int(row["closing"])  # a credit
    out: dict[str, dict[str, int]] = {}
    for line in creator_period(uow.session.connection(), period):
        totals = out.setdefault(line.currency, {"payable_at_end": 0, "paid_by_run": 0, "carried_forward": 0})
        totals["paid_by_run"] += line.paid_out
        totals["carried_forward"] += line.closing
    for currency, amount in at_end.items():
        out.setdefault(currency, {"payable_at_end": 0, "paid_by_run": 0, "carried_forward": 0})
        out[currency]["payable_at_end"] = amount
    for totals in out.values():  # reserve moves and recoveries the run made, besides its payouts
        totals["other_run_moves"] = totals["carried_forward"] + totals["paid_by_run"] - totals["payable_at_end"]
    return dict(sorted(out.items()))


def prior_period_adjustments(uow: UnitOfWork, period: Period) -> list[dict[str, Any]]:
    """Late entries booked in ``period`` whose own date fell in an earlier, closed period."""
    late_from = entry_table.c.metadata[ledger_periods.LATE_FROM].as_string()
    rows = uow.session.execute(
        select(
            entry_table.c.seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.memo,
            entry_table.c.metadata,
        )
        .where(
            entry_table.c.effective_at >= period.starts_at,
            entry_table.c.effective_at < period.ends_at,
            late_from.is_not(None),
        )
        .order_by(entry_table.c.seq)
    ).all()
    cash = {
        seq: (int(amount), currency)
        for seq, amount, currency in uow.session.execute(
            select(posting_table.c.entry_seq, posting_table.c.amount, posting_table.c.currency)
            .join(account_table, account_table.c.id == posting_table.c.account_id)
            .where(posting_table.c.entry_seq.in_([r.seq for r in rows]), account_table.c.code.like("platform:stripe:%"))
        )
    }
    return [
        {
            "seq": r.seq,
            "key": r.idempotency_key,
            "kind": r.kind,
            "memo": r.memo,
            "original_effective_at": (r.metadata or {}).get(ledger_periods.ORIGINAL_EFFECTIVE_AT),
            "late_from": (r.metadata or {}).get(ledger_periods.LATE_FROM),
            "booked_at": iso_utc(r.effective_at),
            "cash": cash.get(r.seq, (0, None))[0],
            "currency": cash.get(r.seq, (0, None))[1],
        }
        for r in rows
    ]


def close_report(uow: UnitOfWork, actor: Actor, period: str | Period) -> PeriodClose:
    actor.require_role(*CLOSERS)
    period = parse_period(period) if isinstance(period, str) else period
    row = uow.session.exec(sm_select(PeriodClose).where(PeriodClose.period == period.name)).first()
    if row is None:
        raise NotFound(f"Period {period.name} has not been closed.")
    return row


def list_closes(uow: UnitOfWork, actor: Actor) -> list[PeriodClose]:
    actor.require_role(*CLOSERS)
    return list(uow.session.exec(sm_select(PeriodClose).order_by(col(PeriodClose.starts_at).desc())).all())


def trial_balance_csv(row: PeriodClose) -> str:
    columns = list(TRIAL_BALANCE_COLUMNS)
    return csvfile.text(columns, ([line.get(c) for c in columns] for line in row.trial_balance.get("rows", [])))


# --- corrections after the close -----------------------------------------------------------


def first_open_moment(uow: UnitOfWork, at: datetime) -> datetime:
    """``at``, or — when it falls in closed periods — the end of the last of them."""
    return ledger_periods.first_open_moment(uow.session, at)


def correction_key(seq: int) -> str:
    return f"correction:{seq}"


def correct_entry(uow: UnitOfWork, actor: Actor, ledger: Ledger, now: datetime, seq: int, reason: str) -> PostedEntry:
    """Reverse entry ``seq`` in the first open period (once; the caller commits)."""
    actor.require_role(*CLOSERS)
    reason = (reason or "").strip()
    if not reason or len(reason) > 400:
        raise ValidationProblem(errors={"reason": "say why, in 1–400 characters"})
    original = ledger.entry(uow.session, seq)
    if original is None:
        raise NotFound(f"There is no ledger entry {seq}.")
    if original.reverses_seq is not None:
        raise Conflict(f"Entry {seq} is itself a reversal; post a new entry instead.")
    reversed_by = uow.session.execute(select(entry_table.c.seq).where(entry_table.c.reverses_seq == seq)).scalar()
    if reversed_by is not None:
        raise Conflict(f"Entry {seq} has already been reversed (by entry {reversed_by}).")
    effective_at = first_open_moment(uow, now)
    try:
        posted = ledger.reverse(
            uow.session,
            seq,
            idempotency_key=correction_key(seq),
            now=now,
            effective_at=effective_at,
            memo=f"correction of entry {seq}: {reason}",
            meta={
                "reason": reason,
                "corrected_by": actor.user_id,
                "original_effective_at": iso_utc(original.effective_at),
            },
        )
    except (AlreadyReversed, IdempotencyConflict) as exc:
        raise Conflict(f"Entry {seq} has already been reversed.") from exc
    except InsufficientBalance as exc:
        raise Conflict(f"Reversing entry {seq} would take {exc.account_code} below zero.") from exc
    audit.record(
        uow,
        actor,
        now,
        "ledger.correction",
        "ledger_entry",
        seq,
        reversal_seq=posted.seq,
        effective_at=iso_utc(effective_at),
        reason=reason,
    )
    return posted
