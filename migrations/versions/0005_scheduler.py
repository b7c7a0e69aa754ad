"""scheduler: APScheduler's job store table

APScheduler's SQLAlchemyJobStore would create this table itself on first start;
creating it here keeps every schema change in a migration.  The shape is the one
APScheduler 3.x defines (apscheduler/jobstores/sqlalchemy.py).

Revision ID: 0005_scheduler
Revises: 0004_metering
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_scheduler"
down_revision = "0004_metering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),  # APScheduler's own column: a timestamp, not money
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
