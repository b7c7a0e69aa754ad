"""accounting: the close report of each closed period

Revision ID: 0008_accounting
Revises: 0007_settlement
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_accounting"
down_revision = "0007_settlement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounting_period_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=254), nullable=False),
        sa.Column("closed_by_user_id", sa.Integer(), sa.ForeignKey("mk_user.id"), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("ledger_period_id", sa.Integer(), sa.ForeignKey("ledger_closed_period.id"), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("posting_count", sa.Integer(), nullable=False),
        sa.Column("unmatched_count", sa.Integer(), nullable=False),
        sa.Column("trial_balance", sa.JSON(), nullable=False),
        sa.Column("reconciliation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period"),
        sa.UniqueConstraint("ledger_period_id"),
    )


def downgrade() -> None:
    op.drop_table("accounting_period_close")
