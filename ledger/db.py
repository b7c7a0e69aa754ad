"""Engines configured for money.

SQLite: WAL (readers do not block the writer), ``synchronous=FULL`` (a commit is on
disk before it is acknowledged), foreign keys on, a busy timeout, and every
transaction opened with ``BEGIN IMMEDIATE`` so there is exactly one writer at a time
and a read-then-write transaction can never fail half way with SQLITE_BUSY.

PostgreSQL: READ COMMITTED (the default); the ledger takes the row locks it needs.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, in_memory=parsed.database in (None, "", ":memory:"))
        return engine
    # No pre-ping: it costs a round trip per checkout on the posting hot path.  Stale
    # connections are recycled instead, and a dropped one fails its unit of work cleanly.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
