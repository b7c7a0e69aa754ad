"""metering: receipts on the usage row; a use's brand must be its licence's brand

The receipt of a use is written with the use, in the same row (one insert per
report instead of two, one index fewer), and ``mt_receipt`` goes.  The separate
foreign keys to the brand and the licence become one composite key to the
licence's (id, brand): stronger (a use cannot name another brand than its
licence's) and one check a row instead of two.

Revision ID: 0009_usage_receipts
Revises: 0008_accounting
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_usage_receipts"
down_revision = "0008_accounting"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# SQLite's foreign keys from 0004 have no names; batch mode names them by this convention
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _fk_name(column: str, referred: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"mt_usage_event_{column}_fkey"
    return f"fk_mt_usage_event_{column}_{referred}"


def upgrade() -> None:
    op.create_index("uq_mk_licence_id_brand", "mk_licence", ["id", "brand_org_id"], unique=True)
    with op.batch_alter_table("mt_usage_event", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("receipt_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("receipt_key_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("receipt_token", sa.Text(), nullable=True))
    op.execute("""
        UPDATE mt_usage_event SET
            receipt_id = (SELECT r.id FROM mt_receipt r WHERE r.usage_event_id = mt_usage_event.id),
            receipt_key_id = (SELECT r.key_id FROM mt_receipt r WHERE r.usage_event_id = mt_usage_event.id),
            receipt_token = (SELECT r.token FROM mt_receipt r WHERE r.usage_event_id = mt_usage_event.id)
    """)
    op.drop_table("mt_receipt")
    with op.batch_alter_table("mt_usage_event", naming_convention=NAMING) as batch:
        for column in ("receipt_id", "receipt_key_id", "receipt_token"):
            batch.alter_column(column, nullable=False)
        batch.drop_constraint(_fk_name("brand_org_id", "mk_organisation"), type_="foreignkey")
        batch.drop_constraint(_fk_name("licence_id", "mk_licence"), type_="foreignkey")
        batch.create_foreign_key(
            "fk_mt_usage_event_licence_brand", "mk_licence", ["licence_id", "brand_org_id"], ["id", "brand_org_id"]
        )


def downgrade() -> None:
    # the receipts wait in a table no key points from while mt_usage_event is rebuilt
    # (SQLite rebuilds it, and could not drop it with mt_receipt referring to it)
    op.create_table(
        "mt_receipt_moving",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("usage_event_id", BIG_ID, nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO mt_receipt_moving (id, usage_event_id, key_id, token, issued_at) "
        "SELECT receipt_id, id, receipt_key_id, receipt_token, recorded_at FROM mt_usage_event"
    )
    with op.batch_alter_table("mt_usage_event", naming_convention=NAMING) as batch:
        batch.drop_constraint("fk_mt_usage_event_licence_brand", type_="foreignkey")
        batch.create_foreign_key(_fk_name("licence_id", "mk_licence"), "mk_licence", ["licence_id"], ["id"])
        batch.create_foreign_key(
            _fk_name("brand_org_id", "mk_organisation"), "mk_organisation", ["brand_org_id"], ["id"]
        )
        batch.drop_column("receipt_token")
        batch.drop_column("receipt_key_id")
        batch.drop_column("receipt_id")
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
    op.execute(
        "INSERT INTO mt_receipt (id, usage_event_id, key_id, token, issued_at) "
        "SELECT id, usage_event_id, key_id, token, issued_at FROM mt_receipt_moving"
    )
    op.drop_table("mt_receipt_moving")
    op.drop_index("uq_mk_licence_id_brand", table_name="mk_licence")
