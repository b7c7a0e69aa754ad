"""``cameo settle --period YYYY-MM [--dry-run] [--retry-failed]``: a settlement run by hand.

A progress bar follows the items being paid (the service's ``on_step`` observer); a
table per currency sums up the run.  Exit status 0 when everything that could be
paid was paid; 1 when the run was refused, items failed, or some are still waiting
on Stripe (run the command again to resume); 2 for a malformed period.
"""

from __future__ import annotations

import getpass
import threading
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from app.clock import Clock
from app.errors import Problem
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from ledger import format_minor

from .errors import SettlementError
from .planning import InvalidPeriod, Period
from .service import RunReport, Settler

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns; click exports no name for it

SHOWN_ITEMS = 20


class Progress:
    """``on_step`` for the CLI: a click progress bar over the items being paid."""

    def __init__(self) -> None:
        self.bar: ProgressBar[int] | None = None
        self._lock = threading.Lock()

    def __call__(self, step: str, subject) -> None:
        with self._lock:
            if step == "run.paying" and subject:
                self.bar = click.progressbar(length=subject, label="paying", show_pos=True)
                self.bar.__enter__()
            elif step in ("item.paid", "item.failed", "item.deferred") and self.bar is not None:
                self.bar.update(1)
            elif step == "run.finished" and self.bar is not None:
                self.bar.__exit__(None, None, None)
                self.bar = None


def _money(amount: int, currency: str) -> str:
    return format_minor(amount, currency)


def print_report(report: RunReport) -> None:
    run = report.run
    head = f"settlement {report.period}"
    if run is not None:
        head += f" — run #{run.id} {run.status}, transfer group {run.transfer_group}"
    click.echo(head)
    if report.note:
        click.echo(report.note)
    rows = [
        (
            "currency",
            "paid",
            "paid amount",
            "held",
            "held amount",
            "below min",
            "carried",
            "failed",
            "failed amount",
            "pending",
            "reserve",
            "waiting",
            "waiting amount",
            "recovered",
        )
    ]
    for currency, s in report.by_currency().items():
        rows.append(
            (
                currency,
                str(s.paid),
                _money(s.paid_amount, currency),
                str(s.held),
                _money(s.held_amount, currency),
                str(s.below_minimum),
                _money(s.below_minimum_amount, currency),
                str(s.failed),
                _money(s.failed_amount, currency),
                str(s.pending),
                _money(s.reserve, currency),
                str(s.awaiting_funds),
                _money(s.awaiting_funds_amount, currency),
                _money(s.recovered, currency),
            )
        )
    if len(rows) == 1:
        click.echo("nothing to settle: no creator has anything payable")
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        click.echo(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))
    notable = [i for i in report.items if i.status in ("held", "failed", "posted", "planned", "awaiting_funds")]
    for item in notable[:SHOWN_ITEMS]:
        why = item.hold_reason if item.status == "held" else item.last_error or ""
        label = "would pay" if report.dry_run and item.status == "planned" else item.status.replace("_", " ")
        click.echo(
            f"  {label:<10} creator {item.creator_id} {_money(item.amount, item.currency)} {item.currency}"
            + (f" — {why}" if why else "")
        )
    if len(notable) > SHOWN_ITEMS:
        click.echo(f"  … and {len(notable) - SHOWN_ITEMS} more (see the admin page)")


@click.command("settle")
@click.option("--period", required=True, help="The month to settle, YYYY-MM (e.g. 2026-10).")
@click.option("--dry-run", is_flag=True, help="Show what would be paid; change nothing, call nobody.")
@click.option("--retry-failed", is_flag=True, help="Pay the run's failed items again.")
@with_appcontext
def settle_command(period: str, dry_run: bool, retry_failed: bool) -> None:
    """Settle a period: pay creators what they are owed (resumes an interrupted run)."""
    try:
        parsed = Period.parse(period)
    except InvalidPeriod as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    if dry_run and retry_failed:
        raise click.UsageError("--dry-run and --retry-failed cannot be combined")
    now, actor = provided(Clock)(), f"cli:{_user()}"
    try:
        gateway = None if dry_run else provided(PaymentGateway)
        settler = provided(Settler)
        progress = Progress()
        if retry_failed:
            report = settler.retry_failed(parsed, now=now, actor=actor, gateway=gateway, on_step=progress)
        else:
            report = settler.settle(parsed, now=now, actor=actor, gateway=gateway, dry_run=dry_run, on_step=progress)
    except (SettlementError, Problem) as exc:
        raise click.ClickException(getattr(exc, "detail", None) or str(exc)) from None
    print_report(report)
    if report.dry_run:
        return
    if report.failed:
        raise click.ClickException(
            f"{len(report.failed)} items failed; fix the cause, then "
            f"`cameo settle --period {parsed.name} --retry-failed`"
        )
    waiting = [i for i in report.unfinished if i.status == "awaiting_funds"]
    if waiting:
        raise click.ClickException(
            f"{len(waiting)} items wait for the platform's Stripe funds to become available; the scheduler "
            f"pays them when they are (or run `cameo settle --period {parsed.name}` again)"
        )
    if report.unfinished:
        raise click.ClickException(
            f"{len(report.unfinished)} items could not be paid yet (Stripe unavailable?); "
            f"run `cameo settle --period {parsed.name}` again to resume"
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
