"""``cameo mail …``: the outbox by hand.

``send``   send what is due now (as the scheduler's ``mail-send`` job does); exit 1 when
           MAIL_URL is not set or something was not sent.
``list``   the outbox, newest first, with a count per state; ``uncertain`` messages are
           called out, since only a person can decide to send them again.
``retry``  send ``failed`` messages again, or (``--uncertain``) messages that may
           already have been delivered; all or nothing, exit 1 when refused.
``test``   queue a test message to an address, to check the settings end to end.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.clock import Clock
from app.db import Database
from app.errors import Problem
from app.kit.registry import current_app_object, provided

from .mailer import Mailer
from .models import STATUSES
from .outbox import enqueue, list_messages, requeue, status_counts
from .rendering import render_mail
from .runtime import deliver_outbox

mail_cli = AppGroup("mail", help="The mail outbox: send, list, retry.")


def _now():
    return provided(Clock)()


def _fail(problem: Problem) -> click.ClickException:
    errors = "; ".join(f"{field}: {text}" for field, text in problem.errors.items())
    return click.ClickException(" ".join(filter(None, [problem.detail, errors])) or problem.title)


@mail_cli.command("send")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=500, show_default=True, help="At most this many messages."
)
def send_command(limit: int) -> None:
    """Send queued mail that is due now."""
    app = current_app_object()
    report = deliver_outbox(app, limit=limit)
    if not report.enabled:
        raise click.ClickException(
            f"MAIL_URL is not set: {report.waiting} message(s) wait in the outbox; nothing was sent"
        )
    click.echo(
        f"via {provided(Mailer, app).describe()}: {len(report.sent)} sent, {len(report.retrying)} to retry later, "
        f"{len(report.failed)} failed, {len(report.uncertain) + len(report.abandoned)} uncertain; "
        f"{report.waiting} still queued"
    )
    if not report.all_sent:
        raise click.ClickException("some mail was not sent: see `cameo mail list`")


@mail_cli.command("list")
@click.option(
    "--status",
    "statuses",
    type=click.Choice(STATUSES),
    multiple=True,
    help="Only these states (repeatable); default: all.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(statuses: tuple[str, ...], limit: int) -> None:
    """The outbox, newest first."""
    db = provided(Database)
    counts = status_counts(db)
    click.echo("outbox: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    for m in list_messages(db, statuses=statuses or STATUSES, limit=limit):
        when = m.sent_at if m.status == "sent" else m.next_attempt_at if m.status == "queued" else m.created_at
        click.echo(f"#{m.id:<6} {m.status:<9} {m.attempts:>2}x {when:%Y-%m-%d %H:%M:%S} {m.to}  {m.subject}")
        if m.last_error and m.status != "sent":
            click.echo(f"         {m.last_error}")
    if counts["uncertain"]:
        click.echo(
            f"{counts['uncertain']} uncertain: the connection broke while they were being sent, so they "
            f"may have been delivered. Check, then send again deliberately with "
            f"`cameo mail retry --uncertain ID`."
        )


@mail_cli.command("retry")
@click.argument("ids", type=int, nargs=-1, required=True)
@click.option(
    "--uncertain",
    is_flag=True,
    help="Retry uncertain messages (they may have been delivered: a receiver may see them twice).",
)
def retry_command(ids: tuple[int, ...], uncertain: bool) -> None:
    """Queue failed (or, with --uncertain, uncertain) messages to be sent again, keeping their Message-ID."""
    try:
        done = requeue(provided(Database), ids, now=_now(), uncertain=uncertain)
    except Problem as exc:
        raise _fail(exc) from None
    click.echo(f"queued again: {', '.join(f'#{i}' for i in done)} (they go out with the next send)")


@mail_cli.command("test")
@click.option("--to", "to", required=True, help="Address to send the test message to.")
def test_command(to: str) -> None:
    """Queue a test message to TO."""
    now = _now()
    rendered = render_mail(current_app.jinja_env, "test", to=to, queued_at=now.strftime("%Y-%m-%d %H:%M:%S UTC"))
    try:
        with provided(Database).unit_of_work() as uow:
            queued = enqueue(
                uow,
                to=to,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                template=rendered.template,
                key=f"mail-test:{now.isoformat()}:{to}"[:200],
                now=now,
            )
            uow.commit()
    except Problem as exc:
        raise _fail(exc) from None
    click.echo(f"queued #{queued.id} to {to}; `cameo mail send` (or the scheduler) sends it")
