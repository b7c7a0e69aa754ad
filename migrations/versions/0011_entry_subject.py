"""ledger: an indexed subject on each entry (the marketplace's licence id)

Settlement planning needs, for each creator posting near the period end, the holdback
days of the licence the entry was about.  It read ``metadata->>'licence_id'`` out of
the JSON of every such entry and joined licences on text.  Each entry now has a
``subject`` column: the integer value of the metadata key the application names
(``Ledger(subject_key="licence_id")``), written when the entry is posted and indexed,
so a planning read joins licences on an integer.  It is derived from the hashed
metadata, so ``cameo ledger verify`` checks it; existing entries get it from their
metadata here (the append-only trigger is lifted for exactly this statement).

Revision ID: 0011_entry_subject
Revises: 0010_guarded_shards
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_entry_subject"
down_revision = "0010_guarded_shards"
branch_labels = None
depends_on = None

KEY = "licence_id"  # app.services' subject_key when this migration was written
SQLITE_NO_UPDATE = """CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
    BEGIN SELECT RAISE(ABORT, 'ledger table ledger_entry is append-only: UPDATE rejected'); END"""


def _backfill(dialect: str) -> str:
    """The subject from the metadata: an integer, or the text of one (at most 18 digits)."""
    if dialect == "postgresql":
        value = f"metadata->>'{KEY}'"
        return f"UPDATE ledger_entry SET subject = CAST({value} AS BIGINT) WHERE {value} ~ '^[0-9]{{1,18}}$'"
    value = f"json_extract(metadata, '$.{KEY}')"
    kind = f"json_type(metadata, '$.{KEY}')"
    return (
        f"UPDATE ledger_entry SET subject = CAST({value} AS INTEGER) WHERE {kind} = 'integer' "
        f"OR ({kind} = 'text' AND length({value}) BETWEEN 1 AND 18 AND {value} NOT GLOB '*[^0-9]*')"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("ledger_entry", sa.Column("subject", sa.BigInteger(), nullable=True))
    if dialect == "postgresql":
        op.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
        op.execute(_backfill(dialect))
        op.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")
    else:
        op.execute("DROP TRIGGER ledger_entry_no_update")
        op.execute(_backfill(dialect))
        op.execute(SQLITE_NO_UPDATE)
    op.create_index(
        "ix_ledger_entry_subject",
        "ledger_entry",
        ["subject"],
        postgresql_where=sa.text("subject IS NOT NULL"),
        sqlite_where=sa.text("subject IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entry_subject", table_name="ledger_entry")
    # a plain ALTER on both databases (SQLite ≥ 3.35): a batch rebuild would drop the table's triggers
    op.execute("ALTER TABLE ledger_entry DROP COLUMN subject")
