"""``mail_outbox``: every message the product means to send, one row each.

A row is added in the transaction of the business change that causes it (so mail
exists only if that change committed) and then moves through these states, a commit
per step (``app.mail.sending``)::

    queued ──claim──▶ sending ──server took it──▶ sent
      ▲                 │ └──server refused / unreachable──▶ queued (back-off) … failed
      │                 └──conversation broke after the body went out,
      │                    or the sender died mid-way (found later)──▶ uncertain
      └──── a person: ``cameo mail retry [--uncertain] ID`` ◀── failed / uncertain

``uncertain`` is never left automatically: the message may have been delivered, and
sending it again is a person's decision.  ``message_id`` is fixed at the first claim,
so a deliberate resend carries the same ``Message-ID`` and receivers can de-duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from ledger.models import table_of
from ledger.types import UTCDateTime

STATUSES = ("queued", "sending", "sent", "uncertain", "failed")
KEY_MAX_CHARS = 200
ADDRESS_MAX_CHARS = 320  # RFC 5321: 64 (local part) + 1 + 255 (domain)
SUBJECT_MAX_CHARS = 998  # RFC 5322 line limit
TEMPLATE_MAX_CHARS = 100


def _when(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="ck_mail_outbox_status"),
        CheckConstraint("attempts >= 0", name="ck_mail_outbox_attempts"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="ck_mail_outbox_sent_at"),
        # The sender's query: queued messages that are due, oldest first.
        Index("ix_mail_outbox_status_created", "status", "created_at", "id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    idempotency_key: str = Field(sa_column=Column(String(KEY_MAX_CHARS), nullable=False, unique=True))
    to_address: str = Field(sa_column=Column(String(ADDRESS_MAX_CHARS), nullable=False))
    subject: str = Field(sa_column=Column(String(SUBJECT_MAX_CHARS), nullable=False))
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    template: Optional[str] = Field(default=None, sa_column=Column(String(TEMPLATE_MAX_CHARS), nullable=True))
    status: str = Field(default="queued", sa_column=Column(String(16), nullable=False, server_default="queued"))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = _when()
    next_attempt_at: datetime = _when()
    claimed_at: Optional[datetime] = _when(nullable=True)
    sent_at: Optional[datetime] = _when(nullable=True)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    message_id: Optional[str] = Field(default=None, sa_column=Column(String(255), nullable=True, unique=True))


outbox_table = table_of(OutboxMessage)
