"""The settlement tables that migration 0007 creates are the ones the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.models
from ledger.db import make_engine

TABLES = {"settlement_run", "settlement_item"}


def _about_settlement(diff) -> bool:
    return any(table in repr(diff) for table in TABLES)


def test_migration_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, SQLModel.metadata) if _about_settlement(d)]
    finally:
        engine.dispose()
    assert diffs == []
