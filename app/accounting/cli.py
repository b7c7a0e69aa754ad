"""``cameo reconcile --period YYYY-MM`` and ``cameo close-period --period YYYY-MM --by EMAIL``.

Exit codes: 0 done / fully matched; 1 refused or something unmatched; 2 bad input
(click's usage errors: a malformed period, an unknown or unauthorised person)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import select

from app.clock import Clock
from app.db import Database
from app.errors import Problem, ValidationProblem
from app.kit.registry import current_app_object, provided
from app.payments.gateway import PaymentGateway
from app.people.actors import SYSTEM, actor_for
from app.people.models import User

from . import close as closing
from .periods import Period, parse_period
from .reconciliation import CATEGORIES, Reconciliation, reconcile


def _period(_ctx, _param, value: str) -> Period:
    try:
        return parse_period(value)
    except ValidationProblem as problem:
        raise click.BadParameter(problem.errors.get("period", problem.detail)) from None


def _fail(problem: Problem) -> click.ClickException:
    return click.ClickException(problem.detail or problem.title)


def print_reconciliation(result: Reconciliation) -> None:
    click.echo(
        f"reconciliation of {result.period.name} [{result.period.starts_at:%Y-%m-%d}, {result.period.ends_at:%Y-%m-%d})"
    )
    header = f"{'section':<10}" + "".join(f"{c:>19}" for c in CATEGORIES)
    click.echo(header)
    for section, counts in result.summary().items():
        click.echo(f"{section:<10}" + "".join(f"{counts[c]:>19}" for c in CATEGORIES))
    unmatched = result.uniform(unmatched_only=True)
    if unmatched.empty:
        click.echo("all matched")
        return
    click.echo(f"\n{result.unmatched_count} unmatched:")
    table = unmatched.drop(columns=["note"]).astype(object)
    click.echo(table.where(table.notna(), "").to_string(index=False))


@click.command("reconcile")
@click.option("--period", required=True, callback=_period, help="The month, YYYY-MM.")
@with_appcontext
def reconcile_command(period: Period) -> None:
    """Reconcile a month's ledger against Stripe; exit 1 when anything is unmatched."""
    app = current_app_object()
    try:
        with provided(Database, app).unit_of_work() as uow:
            result = reconcile(uow, SYSTEM, provided(PaymentGateway, app), period)
    except Problem as problem:
        raise _fail(problem) from None
    print_reconciliation(result)
    if not result.reconciled:
        raise SystemExit(1)


@click.command("close-period")
@click.option("--period", required=True, callback=_period, help="The month, YYYY-MM.")
@click.option("--by", "email", required=True, help="Email of the accountant or admin closing it.")
@click.option("--override-reason", default=None, help="Why to close although reconciliation found differences.")
@with_appcontext
def close_period_command(period: Period, email: str, override_reason: str | None) -> None:
    """Close a month: reconcile, lock it in the ledger, store the close report."""
    app = current_app_object()
    try:
        with provided(Database, app).unit_of_work() as uow:
            user = uow.session.exec(select(User).where(User.email == email.strip().lower())).first()
            if user is None or not user.is_active or user.role not in closing.CLOSERS:
                raise click.BadParameter(f"{email} is not an active accountant or admin", param_hint="--by")
            row = closing.close_period(
                uow,
                actor_for(uow, user, user_agent="cameo close-period"),
                provided(PaymentGateway, app),
                provided(Clock, app)(),
                period,
                override_reason,
            )
            uow.commit()
            uow.session.expunge(row)
    except Problem as problem:
        raise _fail(problem) from None
    click.echo(
        f"closed {row.period} by {row.closed_by} at {row.closed_at.isoformat()}; "
        f"{row.entry_count} entries, {row.unmatched_count} unmatched"
        + (f" (override: {row.override_reason})" if row.override_reason else "")
    )
    for currency, total in row.trial_balance["totals"].items():
        click.echo(f"trial balance {currency}: debits {total['debit']} credits {total['credit']} (minor units)")
