"""Sending the outbox: each message at most once, oldest first, a commit per step.

``send_pending(db, mailer, now=…, limit=…)`` repeats, for up to ``limit`` messages:

1. **claim** the oldest due ``queued`` message in a transaction of its own: status
   ``sending``, ``attempts + 1``, ``claimed_at``, and — the first time — its
   ``Message-ID``; commit.  On PostgreSQL the row is chosen with ``FOR UPDATE SKIP
   LOCKED``, so concurrent senders take different messages; on SQLite every write
   transaction is ``BEGIN IMMEDIATE`` (ledger.db), so claims are one at a time.
2. **send** it, outside any transaction (the SMTP conversation may take seconds);
3. **record** what happened, in a second transaction:
   * the server took it → ``sent``;
   * ``NotSent`` → back to ``queued`` with ``next_attempt_at`` pushed back by
     ``RetryPolicy`` (doubling per attempt), or ``failed`` when the refusal is
     permanent or the attempts are used up;
   * ``MaybeSent`` or anything unexpected → ``uncertain``.

A message is **never sent twice** by this code: only a ``queued`` row is claimed, and
the claim is committed before the conversation starts.  If the sender dies between
claim and record, the row stays ``sending``; the next run finds it older than
``stale_after`` and makes it ``uncertain`` — it may have gone out, so a person decides
(``cameo mail retry --uncertain ID``), and a resend carries the same ``Message-ID``.

Every function takes its collaborators (the database, the mailer, ``now``); nothing
here reads configuration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import func, select, update
from sqlmodel import col

from app.db import Database, key_column, rowcount

from .mailer import Mailer, MaybeSent, NotSent
from .models import OutboxMessage
from .settings import MailIdentity

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 2000
DEFAULT_BATCH = 50
# Longer than any SMTP conversation can last (a socket timeout per read, a handful of
# reads): a message still ``sending`` after this had its sender die mid-way.
STALE_SENDING_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for messages the server did not take: 30 s, 1 min, 2 min, … up to an hour."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 20  # about 15 hours of trying before a message is ``failed``

    def delay_after(self, attempts: int) -> timedelta:
        return min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)


@dataclass(frozen=True)
class Claimed:
    """A claimed message, copied out of its row before the claim's transaction ended."""

    id: int
    attempt: int
    to: str
    subject: str
    text: str
    html: str | None
    message_id: str
    created_at: datetime


@dataclass(frozen=True)
class SendReport:
    """What one ``send_pending`` call did, by outbox id."""

    sent: tuple[int, ...] = ()
    retrying: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    uncertain: tuple[int, ...] = ()
    #: ``sending`` rows whose sender died (found stale): now ``uncertain``.
    abandoned: tuple[int, ...] = ()
    #: False when the mailer cannot send (``MAIL_URL`` empty): nothing was touched.
    enabled: bool = True
    waiting: int = 0

    @property
    def all_sent(self) -> bool:
        return not (self.retrying or self.failed or self.uncertain or self.abandoned)


def compose(message: Claimed, identity: MailIdentity) -> EmailMessage:
    """The message as it goes on the wire; the same every time it is composed."""
    mail = EmailMessage()
    mail["From"] = identity.from_header
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message.message_id
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a machine
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    return mail


def count_waiting(db: Database, *, now: datetime | None = None) -> int:
    """Queued messages (due by ``now``, when given)."""
    query = select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.status) == "queued")
    if now is not None:
        query = query.where(col(OutboxMessage.next_attempt_at) <= now)
    with db.unit_of_work() as uow:
        return uow.session.execute(query).scalar_one()


def abandon_stale(db: Database, *, now: datetime, stale_after: timedelta = STALE_SENDING_AFTER) -> tuple[int, ...]:
    """``sending`` rows claimed before ``now - stale_after`` → ``uncertain`` (their sender died)."""
    with db.unit_of_work() as uow:
        ids = tuple(
            uow.session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.status) == "sending", col(OutboxMessage.claimed_at) <= now - stale_after)
                .values(
                    status="uncertain",
                    last_error="the sender stopped during the SMTP conversation; it may have been delivered",
                )
                .returning(key_column(OutboxMessage.id))
            ).scalars()
        )
        uow.commit()
    for outbox_id in ids:
        log.warning("mail #%d: its sender stopped mid-way; it may have been delivered — listed as uncertain", outbox_id)
    return ids


def claim_next(db: Database, *, now: datetime, identity: MailIdentity) -> Claimed | None:
    """Take the oldest due queued message for this sender and commit the claim (None: nothing due)."""
    with db.unit_of_work() as uow:
        row = uow.session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.status) == "queued", col(OutboxMessage.next_attempt_at) <= now)
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is None:
            return None
        row.status = "sending"
        row.attempts += 1
        row.claimed_at = now
        row.message_id = row.message_id or identity.message_id(row.id)
        claimed = Claimed(
            id=row.id,
            attempt=row.attempts,
            to=row.to_address,
            subject=row.subject,
            text=row.text_body,
            html=row.html_body,
            message_id=row.message_id,
            created_at=row.created_at,
        )
        uow.commit()
    return claimed


def _record(db: Database, claimed: Claimed, **values) -> None:
    """Update the row if it is still this claim's (same attempt, not re-queued by a person meanwhile)."""
    with db.unit_of_work() as uow:
        changed = rowcount(
            uow.session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == claimed.id,
                    col(OutboxMessage.attempts) == claimed.attempt,
                    col(OutboxMessage.status).in_(("sending", "uncertain")),
                )
                .values(**values)
            )
        )
        uow.commit()
    if changed != 1:
        log.warning(
            "mail #%d changed hands while it was being sent; its outcome (%s) was not recorded",
            claimed.id,
            values.get("status"),
        )


def _error(text: str) -> str:
    return text[:MAX_ERROR_CHARS]


def send_one(
    db: Database, mailer: Mailer, claimed: Claimed, *, now: datetime, retry: RetryPolicy = RetryPolicy()
) -> str:
    """Send a claimed message and record the outcome; returns the message's new status."""
    try:
        mailer.send(compose(claimed, mailer.identity))
    except NotSent as exc:
        if exc.permanent or claimed.attempt >= retry.max_attempts:
            _record(db, claimed, status="failed", last_error=_error(exc.reason))
            log.error("mail #%d failed after %d attempt(s): %s", claimed.id, claimed.attempt, exc.reason)
            return "failed"
        next_at = now + retry.delay_after(claimed.attempt)
        _record(db, claimed, status="queued", next_attempt_at=next_at, last_error=_error(exc.reason))
        log.warning(
            "mail #%d not sent (attempt %d), next try at %s: %s",
            claimed.id,
            claimed.attempt,
            next_at.isoformat(),
            exc.reason,
        )
        return "queued"
    except Exception as exc:
        reason = str(exc) if isinstance(exc, MaybeSent) else f"{type(exc).__name__} while sending: {exc}"
        _record(db, claimed, status="uncertain", last_error=_error(reason))
        log.error("mail #%d may or may not have been delivered; listed as uncertain: %s", claimed.id, reason)
        return "uncertain"
    _record(db, claimed, status="sent", sent_at=now, last_error=None)
    log.info("mail #%d sent %s", claimed.id, claimed.message_id)
    return "sent"


def send_pending(
    db: Database,
    mailer: Mailer,
    *,
    now: datetime,
    limit: int = DEFAULT_BATCH,
    retry: RetryPolicy = RetryPolicy(),
    stale_after: timedelta = STALE_SENDING_AFTER,
) -> SendReport:
    """Send up to ``limit`` due messages, oldest first (see the module docstring)."""
    if not mailer.enabled:
        waiting = count_waiting(db)
        mailer.tell_disabled(waiting)
        return SendReport(enabled=False, waiting=waiting)
    abandoned = abandon_stale(db, now=now, stale_after=stale_after)
    by_outcome: dict[str, list[int]] = {"sent": [], "queued": [], "failed": [], "uncertain": []}
    for _ in range(limit):
        claimed = claim_next(db, now=now, identity=mailer.identity)
        if claimed is None:
            break
        by_outcome[send_one(db, mailer, claimed, now=now, retry=retry)].append(claimed.id)
    return SendReport(
        sent=tuple(by_outcome["sent"]),
        retrying=tuple(by_outcome["queued"]),
        failed=tuple(by_outcome["failed"]),
        uncertain=tuple(by_outcome["uncertain"]),
        abandoned=abandoned,
        waiting=count_waiting(db),
    )
