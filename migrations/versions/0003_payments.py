"""payments: Stripe webhook events, licence payments, brand invoices

Revision ID: 0003_payments
Revises: 0002_marketplace
Create Date: 2026-11-24
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003_payments"
down_revision = "0002_marketplace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
