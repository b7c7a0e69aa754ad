"""connect: creators' Stripe Connect accounts

Revision ID: 0006_connect
Revises: 0005_scheduler
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_connect"
down_revision = "0005_scheduler"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), sa.ForeignKey("mk_user.id"), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("requirements_due", sa.JSON(), nullable=False),
        sa.Column("stripe_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creator_id"),
        sa.UniqueConstraint("stripe_account_id"),
    )


def downgrade() -> None:
    op.drop_table("connect_account")
