"""mail: the outbox table

One row per message the product means to send, added in the transaction of the change
that causes it and sent after commit by ``app.mail.sending`` (see app/mail/models.py
for the states).  The unique ``idempotency_key`` makes enqueueing the same message
twice one message; the unique ``message_id`` is fixed at the first claim.

Revision ID: 0012_mail_outbox
Revises: 0011_entry_subject
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_mail_outbox"
down_revision = "0011_entry_subject"
branch_labels = None
depends_on = None

STATUSES = ("queued", "sending", "sent", "uncertain", "failed")  # app.mail.models.STATUSES when written


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=True),
        sa.Column("template", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True, unique=True),
        sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="ck_mail_outbox_status"),
        sa.CheckConstraint("attempts >= 0", name="ck_mail_outbox_attempts"),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="ck_mail_outbox_sent_at"),
    )
    op.create_index("ix_mail_outbox_status_created", "mail_outbox", ["status", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_status_created", table_name="mail_outbox")
    op.drop_table("mail_outbox")
