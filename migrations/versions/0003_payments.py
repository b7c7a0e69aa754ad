"""payments: Stripe webhook events, licence payments, brand usage invoices

Revision ID: 0003_payments
Revises: 0002_marketplace
Create Date: 2026-11-24

``stripe_event`` is the webhook inbox (one row per Stripe event id, processed
idempotently, retried while ``processed_at`` is NULL); ``licence_payment`` is one
row per licence whose upfront fee is collected through Stripe Checkout;
``licence_payment_adjustment`` records each refund or dispute of one, once;
``usage_invoice`` bills a brand's metered usage for a period through Checkout.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_payments"
down_revision = "0002_marketplace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stripe_event"),
    )
    op.create_index("ix_stripe_event_pending", "stripe_event", ["processed_at", "created"], unique=False)
    op.create_table(
        "licence_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("checkout_attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sale_entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("refunded_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("disputed_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'refunded', 'partially_refunded', 'disputed')", name="ck_licence_payment_status"
        ),
        sa.CheckConstraint(
            "amount > 0 AND refunded_amount >= 0 AND refunded_amount <= amount", name="ck_licence_payment_money"
        ),
        sa.ForeignKeyConstraint(["licence_id"], ["mk_licence.id"], name="fk_licence_payment_licence"),
        sa.PrimaryKeyConstraint("id", name="pk_licence_payment"),
        sa.UniqueConstraint("checkout_session_id", name="uq_licence_payment_checkout_session"),
        sa.UniqueConstraint("licence_id", name="uq_licence_payment_licence"),
        sa.UniqueConstraint("payment_intent_id", name="uq_licence_payment_payment_intent"),
    )
    op.create_table(
        "licence_payment_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_payment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("stripe_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('refund', 'dispute')", name="ck_licence_payment_adjustment_kind"),
        sa.CheckConstraint("amount > 0 AND fee >= 0", name="ck_licence_payment_adjustment_money"),
        sa.ForeignKeyConstraint(
            ["licence_payment_id"], ["licence_payment.id"], name="fk_licence_payment_adjustment_payment"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_licence_payment_adjustment"),
        sa.UniqueConstraint("stripe_id", name="uq_licence_payment_adjustment_stripe_id"),
    )
    op.create_index(
        "ix_licence_payment_adjustment_licence_payment_id",
        "licence_payment_adjustment",
        ["licence_payment_id"],
        unique=False,
    )

    op.create_table(
        "usage_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_org_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'paid', 'void')", name="ck_usage_invoice_status"),
        sa.CheckConstraint("amount > 0 AND period_end > period_start", name="ck_usage_invoice_amount_period"),
        sa.ForeignKeyConstraint(["brand_org_id"], ["mk_organisation.id"], name="fk_usage_invoice_brand"),
        sa.PrimaryKeyConstraint("id", name="pk_usage_invoice"),
        sa.UniqueConstraint("brand_org_id", "currency", "period_start", name="uq_usage_invoice_brand_period"),
        sa.UniqueConstraint("checkout_session_id", name="uq_usage_invoice_checkout_session"),
        sa.UniqueConstraint("payment_intent_id", name="uq_usage_invoice_payment_intent"),
    )
    op.create_index("ix_usage_invoice_brand_org_id", "usage_invoice", ["brand_org_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_usage_invoice_brand_org_id", table_name="usage_invoice")
    op.drop_table("usage_invoice")
    op.drop_index("ix_licence_payment_adjustment_licence_payment_id", table_name="licence_payment_adjustment")
    op.drop_table("licence_payment_adjustment")
    op.drop_table("licence_payment")
    op.drop_index("ix_stripe_event_pending", table_name="stripe_event")
    op.drop_table("stripe_event")
