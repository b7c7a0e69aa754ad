"""The outbox's own operations: enqueue (in the caller's transaction), list, re-queue.

``enqueue`` adds a message with the caller's unit of work and does not commit: the
message exists only if the business change that caused it commits.  Its ``key`` is
the idempotency key (e.g. ``verify-email:user:42:1``): enqueueing the same key again
with the same content is the same message, with different content it is
``OutboxConflict`` (409) and nothing changes.  The row goes in with ``INSERT … ON
CONFLICT DO NOTHING``, so two transactions racing with one key wait for each other
instead of failing on the unique index.

Bad input (not exactly one address, a header with a line break, an empty body) is
``InvalidMail`` (422), raised before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from app.db import Database, UnitOfWork, id_of, key_column
from app.errors import Conflict, ValidationProblem

from .models import (
    ADDRESS_MAX_CHARS,
    KEY_MAX_CHARS,
    STATUSES,
    SUBJECT_MAX_CHARS,
    TEMPLATE_MAX_CHARS,
    OutboxMessage,
    outbox_table,
)
from .settings import single_address


class InvalidMail(ValidationProblem):
    title = "Invalid mail"


class OutboxConflict(Conflict):
    title = "Mail key already used"


class RetryRefused(Conflict):
    title = "Mail cannot be retried"


@dataclass(frozen=True)
class Enqueued:
    id: int
    key: str
    created: bool  # False: the key was enqueued before, with this same content


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as a person sees it in ``cameo mail list`` (bodies left out)."""

    id: int
    key: str
    to: str
    subject: str
    template: str | None
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    message_id: str | None


def _validate(*, to: str, subject: str, text: str, html: str | None, key: str, template: str | None) -> None:
    errors: dict[str, str] = {}
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX_CHARS:
        errors["key"] = f"must be a non-empty text of at most {KEY_MAX_CHARS} characters"
    if not isinstance(to, str) or len(to) > ADDRESS_MAX_CHARS or single_address(to) is None:
        errors["to"] = "must be exactly one e-mail address, e.g. 'ada@example.com' or 'Ada <ada@example.com>'"
    if (
        not isinstance(subject, str)
        or not subject.strip()
        or len(subject) > SUBJECT_MAX_CHARS
        or any(c in subject for c in "\r\n\0")
    ):
        errors["subject"] = f"must be one line of 1 to {SUBJECT_MAX_CHARS} characters"
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "must not be empty: every message has a plain-text body"
    if html is not None and (not isinstance(html, str) or not html.strip()):
        errors["html"] = "must be omitted or non-empty"
    if template is not None and (not isinstance(template, str) or not template or len(template) > TEMPLATE_MAX_CHARS):
        errors["template"] = f"must be omitted or a name of at most {TEMPLATE_MAX_CHARS} characters"
    if errors:
        raise InvalidMail(errors=errors)


def _insert(uow: UnitOfWork):
    dialect = uow.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(outbox_table)


def enqueue(
    uow: UnitOfWork,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    key: str,
    now: datetime,
    template: str | None = None,
) -> Enqueued:
    """Queue a message in the caller's transaction (the caller commits); see the module docstring."""
    _validate(to=to, subject=subject, text=text, html=html, key=key, template=template)
    content = {"to_address": to, "subject": subject, "text_body": text, "html_body": html, "template": template}
    table = outbox_table
    new_id = uow.session.execute(
        _insert(uow)
        .values(idempotency_key=key, status="queued", attempts=0, created_at=now, next_attempt_at=now, **content)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    ).scalar_one_or_none()
    if new_id is not None:
        return Enqueued(id=new_id, key=key, created=True)
    existing = uow.session.execute(
        select(table.c.id, *(table.c[name] for name in content)).where(table.c.idempotency_key == key)
    ).one()
    differs = sorted(name for name in content if existing._mapping[name] != content[name])
    if differs:
        raise OutboxConflict(
            f"The mail key {key!r} was used before for a different message ({', '.join(differs)} differ)."
        )
    return Enqueued(id=existing.id, key=key, created=False)


def _entry(row: OutboxMessage) -> OutboxEntry:
    return OutboxEntry(
        id=id_of(row),
        key=row.idempotency_key,
        to=row.to_address,
        subject=row.subject,
        template=row.template,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        message_id=row.message_id,
    )


def list_messages(db: Database, *, statuses: Iterable[str] = STATUSES, limit: int = 50) -> list[OutboxEntry]:
    """Messages in ``statuses``, newest first."""
    with db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.status).in_(tuple(statuses)))
            .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
            .limit(limit)
        ).scalars()
        return [_entry(row) for row in rows]


def status_counts(db: Database) -> dict[str, int]:
    with db.unit_of_work() as uow:
        found = dict(
            uow.session.execute(
                select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
    return {status: found.get(status, 0) for status in STATUSES}


def requeue(db: Database, ids: Sequence[int], *, now: datetime, uncertain: bool = False) -> tuple[int, ...]:
    """A person's decision to send again: ``failed`` messages (or, with ``uncertain``, messages that
    may already have been delivered) go back to ``queued``, due now, keeping their Message-ID.
    All or nothing: RetryRefused, naming each message that cannot be retried, changes nothing."""
    wanted = "uncertain" if uncertain else "failed"
    with db.unit_of_work() as uow:
        found = dict(
            uow.session.execute(
                select(key_column(OutboxMessage.id), col(OutboxMessage.status))
                .where(col(OutboxMessage.id).in_(ids))
                .with_for_update()
            ).all()
        )
        problems = [
            f"#{i} does not exist" if i not in found else f"#{i} is {found[i]}" for i in ids if found.get(i) != wanted
        ]
        if problems:
            hint = "" if uncertain else " (an uncertain message needs --uncertain: it may have been delivered)"
            raise RetryRefused(f"Only {wanted} messages can be retried this way: {'; '.join(problems)}.{hint}")
        uow.session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .values(status="queued", next_attempt_at=now, claimed_at=None)
        )
        uow.commit()
    return tuple(ids)
