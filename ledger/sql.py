"""Driver-level SQL for the posting hot path.

Multi-row INSERTs built with SQLAlchemy's ``insert().values([...])`` are compiled
anew for every call (their shape changes with the row count), which costs more
than the database round trip itself.  The statements here are plain SQL strings,
generated once per (dialect, row count) and cached, executed with
``Connection.exec_driver_sql`` — so the posting path pays for the database, not
for statement compilation.  Only the ledger's own fixed statements live here;
everything else uses SQLAlchemy Core.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping

from .types import as_utc

ENTRY_COLUMNS = ("idempotency_key", "kind", "effective_at", "posted_at", "memo", "reverses_seq", "metadata",
                 "content_hash")
POSTING_COLUMNS = ("entry_seq", "account_id", "amount", "currency")


def placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def db_time(value: datetime, dialect: str) -> Any:
    """The bind value UTCDateTime would produce (naive UTC text layout on SQLite)."""
    value = as_utc(value)
    if dialect == "sqlite":
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def db_json(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), separators=(",", ":"), sort_keys=True)


@lru_cache(maxsize=256)
def insert_entries(dialect: str, rows: int) -> str:
    p = placeholder(dialect)
    meta = f"CAST({p} AS JSON)" if dialect == "postgresql" else p
    row = "(" + ", ".join([p] * 6 + [meta, p]) + ")"
    return (
        f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) VALUES {', '.join([row] * rows)} "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq, idempotency_key"
    )


# PostgreSQL: one array parameter per column and ``unnest`` — the statement text never
# changes with the row count, and binding 8 arrays is far cheaper than 8,000 scalars.
PG_INSERT_ENTRIES = (
    f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) "
    "SELECT k, kind, e, p, memo, r, CAST(m AS JSON), h FROM unnest("
    "%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::bigint[], %s::text[], "
    "%s::text[]) AS t(k, kind, e, p, memo, r, m, h) "
    # The code-side closed-period check, folded into the insert to save a round trip:
    # a row it filters out comes back missing and the caller says why.
    "WHERE NOT EXISTS (SELECT 1 FROM ledger_closed_period c WHERE t.e >= c.starts_at AND t.e < c.ends_at) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq, idempotency_key"
)
PG_COPY_POSTINGS = f"COPY ledger_posting ({', '.join(POSTING_COLUMNS)}) FROM STDIN"


@lru_cache(maxsize=256)
def insert_postings(dialect: str, rows: int) -> str:
    p = placeholder(dialect)
    row = f"({p}, {p}, {p}, {p})"
    return f"INSERT INTO ledger_posting ({', '.join(POSTING_COLUMNS)}) VALUES {', '.join([row] * rows)}"


@lru_cache(maxsize=4)
def update_balance(dialect: str) -> str:
    """Add a delta to one balance row unless that would cross a guarded account's zero."""
    p = placeholder(dialect)
    return (
        f"UPDATE ledger_balance SET amount = amount + {p}, version = version + 1, last_seq = {p} "
        f"WHERE account_id = {p} AND shard = {p} AND (guard = 0 OR (amount + {p}) * guard >= 0)"
    )
