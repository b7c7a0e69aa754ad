"""metering: usage events and signed receipts

Revision ID: 0004_metering
Revises: 0003_payments
Create Date: 2026-11-24
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0004_metering"
down_revision = "0003_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
