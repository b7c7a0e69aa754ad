"""settlement: runs (one per period) and their payout items

Revision ID: 0007_settlement
Revises: 0006_connect
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_settlement"
down_revision = "0006_connect"
branch_labels = None
depends_on = None

RUN_STATUSES = ("planned", "paying", "incomplete", "completed", "completed_with_failures")
ITEM_STATUSES = ("planned", "held", "below_minimum", "posted", "paid", "failed", "reversed", "partially_reversed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "settlement_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transfer_group", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        _count("item_count"),
        _count("paid_count"),
        _count("held_count"),
        _count("below_minimum_count"),
        _count("failed_count"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period"),
        sa.UniqueConstraint("transfer_group"),
        sa.CheckConstraint(_in("status", RUN_STATUSES), name="ck_settlement_run_status"),
        sa.CheckConstraint("period_start < period_end", name="ck_settlement_run_period"),
    )
    op.create_table(
        "settlement_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("settlement_run.id"), nullable=False),
        sa.Column("creator_id", sa.Integer(), sa.ForeignKey("mk_user.id"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payable", sa.BigInteger(), nullable=False),
        sa.Column("reserve", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reserve_entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("destination", sa.String(length=255), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("transfer_id", sa.String(length=255), nullable=True),
        sa.Column("entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("reversal_seq", sa.BigInteger(), nullable=True),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "creator_id", "currency", name="uq_settlement_item_run_creator_currency"),
        sa.UniqueConstraint("transfer_id"),
        sa.CheckConstraint(_in("status", ITEM_STATUSES), name="ck_settlement_item_status"),
        sa.CheckConstraint(
            "payable >= 0 AND reserve >= 0 AND amount >= 0 AND amount = payable - reserve",
            name="ck_settlement_item_money",
        ),
        sa.CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="ck_settlement_item_reversed"),
        sa.CheckConstraint("attempt >= 1", name="ck_settlement_item_attempt"),
    )
    op.create_index("ix_settlement_item_run_id", "settlement_item", ["run_id"])
    op.create_index("ix_settlement_item_creator_id", "settlement_item", ["creator_id"])


def downgrade() -> None:
    op.drop_index("ix_settlement_item_creator_id", table_name="settlement_item")
    op.drop_index("ix_settlement_item_run_id", table_name="settlement_item")
    op.drop_table("settlement_item")
    op.drop_table("settlement_run")
