"""The core commands of ``cameo``: ``db``, ``seed``, ``ledger`` and ``scheduler``.

Features add their own groups from their ``cli.py`` (``cameo settle``, ``cameo
payments …``, ``cameo export`` …); ``app.main`` is the console script.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ledger import Ledger, chain, format_minor, reports
from ledger.verify import verify

from . import migrate, scheduler
from . import seed as seed_module
from .clock import Clock
from .db import Database
from .kit.registry import current_app_object, provided
from .timeparse import parse_as_of

db_cli = AppGroup("db", help="Database schema.")
ledger_cli = AppGroup("ledger", help="Inspect and check the book.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the chart of accounts and the demo marketplace (idempotent)."""
    summary = seed_module.seed(current_app_object(), now=provided(Clock)())
    for line in summary:
        click.echo(line)


def _as_of(_ctx, _param, value):
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@ledger_cli.command("verify")
@click.option("--seal/--no-seal", default=False, help="Seal committed entries before verifying.")
def ledger_verify(seal: bool) -> None:
    """Recompute hashes, the chain and every balance; exit 1 naming the first bad entry."""
    db = provided(Database)
    if seal:
        chain.seal(db.engine, now=provided(Clock)())
    with db.engine.connect() as conn:
        report = verify(conn, subject_key=provided(Ledger).subject_key)
    click.echo(f"entries: {report.entries}  postings: {report.postings}  accounts: {report.accounts}")
    click.echo(f"sealed through seq {report.sealed_through}; unsealed tail: {report.unsealed} entries")
    if report.ok:
        click.echo("OK: hashes, chain and balances all agree")
        return
    for problem in report.problems[:50]:
        where = f"entry {problem.seq}" if problem.seq is not None else f"account {problem.account}"
        click.echo(f"BAD {where}: {problem.message}", err=True)
    first = report.first_bad_seq
    raise click.ClickException(
        f"ledger verification failed; first bad entry: {first}"
        if first is not None
        else "ledger verification failed (balances)"
    )


@ledger_cli.command("seal")
def ledger_seal() -> None:
    """Link committed entries into the hash chain."""
    result = chain.seal(provided(Database).engine, now=provided(Clock)())
    click.echo(f"sealed {result.sealed} entries; head seq {result.head_seq} {result.head_hash}")


@ledger_cli.command("balance")
@click.argument("code")
@click.option("--as-of", callback=_as_of, help="ISO date (end of day) or date-time (inclusive).")
def ledger_balance(code: str, as_of) -> None:
    """Print one account's balance."""
    with provided(Database).engine.connect() as conn:
        found = reports.balances(conn, before=as_of, codes=[code])
    if not found:
        raise click.ClickException(f"no account {code}")
    row = found[0]
    side = "debit" if row.amount > 0 else "credit" if row.amount < 0 else ""
    click.echo(f"{row.code}  {row.type}  {format_minor(abs(row.amount), row.currency)} {row.currency} {side}".rstrip())


@ledger_cli.command("trial-balance")
@click.option("--as-of", callback=_as_of, help="ISO date (end of day) or date-time (inclusive).")
def ledger_trial_balance(as_of) -> None:
    """Print the trial balance: every account's debit or credit, totals per currency."""
    with provided(Database).engine.connect() as conn:
        tb = reports.trial_balance(conn, before=as_of)
    width = max([len(r.code) for r in tb.rows] + [7])
    click.echo(f"{'account':<{width}}  {'type':<9} {'cur':<3} {'debit':>16} {'credit':>16}")
    for r in tb.rows:
        if r.amount == 0:
            continue
        debit = format_minor(r.debit, r.currency) if r.debit else ""
        credit = format_minor(r.credit, r.currency) if r.credit else ""
        click.echo(f"{r.code:<{width}}  {r.type:<9} {r.currency:<3} {debit:>16} {credit:>16}")
    for currency, (debits, credits) in tb.totals().items():
        flag = "" if debits == credits else "  UNBALANCED"
        click.echo(
            f"{'total':<{width}}  {'':<9} {currency:<3} {format_minor(debits, currency):>16} "
            f"{format_minor(credits, currency):>16}{flag}"
        )
    if not tb.balanced:
        raise click.ClickException("trial balance does not balance")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler process (sealing, settlement); Ctrl-C stops it."""
    click.echo("scheduler running; Ctrl-C stops it")
    scheduler.run(current_app_object())


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(scheduler_command)
