"""metering: usage events and signed receipts

Revision ID: 0004_metering
Revises: 0003_payments
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_metering"
down_revision = "0003_payments"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid


def upgrade() -> None:
    op.create_table(
        "mt_usage_event",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("brand_org_id", sa.Integer(), sa.ForeignKey("mk_organisation.id"), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("licence_id", sa.Integer(), sa.ForeignKey("mk_licence.id"), nullable=False),
        sa.Column("reported_by", sa.Integer(), sa.ForeignKey("mk_user.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("territory", sa.String(length=16), nullable=False),
        sa.Column("media", sa.String(length=20), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("content_url", sa.String(length=2000), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ledger_key", sa.String(length=300), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('render', 'publication', 'impressions')", name="ck_mt_usage_event_kind"),
        sa.CheckConstraint("price_minor >= 0", name="ck_mt_usage_event_price"),
        sa.CheckConstraint("quantity > 0", name="ck_mt_usage_event_quantity"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_org_id", "event_id", name="uq_mt_usage_event_brand_event"),
    )
    op.create_index("ix_mt_usage_event_licence_id_id", "mt_usage_event", ["licence_id", "id"])
    op.create_table(
        "mt_receipt",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("usage_event_id", BIG_ID, sa.ForeignKey("mt_usage_event.id"), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("usage_event_id", name="uq_mt_receipt_usage_event_id"),
    )


def downgrade() -> None:
    op.drop_table("mt_receipt")
    op.drop_index("ix_mt_usage_event_licence_id_id", table_name="mt_usage_event")
    op.drop_table("mt_usage_event")
