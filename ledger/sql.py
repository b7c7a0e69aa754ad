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
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from .types import as_utc

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

ENTRY_COLUMNS = (
    "idempotency_key",
    "kind",
    "effective_at",
    "posted_at",
    "memo",
    "reverses_seq",
    "metadata",
    "content_hash",
    "subject",
)
POSTING_COLUMNS = ("entry_seq", "account_id", "amount", "currency")
MAX_SHARDS = 64  # balance rows an account may have (CHECK ck_ledger_account_shards)


_TUPLES_OK = 2  # libpq's PGRES_TUPLES_OK (psycopg.pq.ExecStatus.TUPLES_OK)


def driver_connection(conn: Connection) -> psycopg.Connection[TupleRow]:
    """The psycopg connection under ``conn`` (PostgreSQL only)."""
    import psycopg  # here, not at the top: SQLite-only processes never load the driver

    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError(f"expected a psycopg connection under {conn!r}, got {driver!r}")
    return driver


def on_driver(conn: Connection, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run a fixed PostgreSQL statement on the DBAPI (psycopg) connection under
    ``conn``, in ``conn``'s transaction, and return its rows.

    For the few statements a hot request runs (the host application's own lookups and
    locks, and the entry inserts): SQLAlchemy's per-statement machinery — execution
    context, cursor result, events — costs about as much CPU as psycopg's whole round
    trip (~55 µs each, measured by bench/usage_bench.py's CPU columns).  psycopg
    prepares each statement once per connection.  Its errors come back as
    SQLAlchemy's (``IntegrityError`` …), so callers handle them as they always did;
    SQLAlchemy's statement events do not see these statements.
    """
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor = driver_connection(conn).execute(statement, params, prepare=True)
        # the result's status, not ``cursor.description``: that builds a Column object per
        # result column on every call (~20 µs a statement)
        result = cursor.pgresult
        return cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, params, exc, dbapi.Error, dialect=conn.dialect) from exc


@lru_cache(maxsize=64)
def pg_text(statement: ClauseElement) -> str:
    """A SQLAlchemy Core statement as PostgreSQL (psycopg) SQL text, compiled once, for
    ``on_driver`` with a dict of its bind values: the hot path keeps one definition of
    each query and skips SQLAlchemy only when running it."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect __init__ unannotated
    return str(statement.compile(dialect=dialect))


def placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def db_time(value: datetime, dialect: str) -> datetime | str:
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
    row = "(" + ", ".join([p] * 6 + [meta, p, p]) + ")"
    return (
        f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) VALUES {', '.join([row] * rows)} "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq, idempotency_key"
    )


# PostgreSQL: one array parameter per column and ``unnest`` — the statement text never
# changes with the row count, and binding 8 arrays is far cheaper than 8,000 scalars.
# ``%b`` sends the arrays in binary: the text form would make psycopg scan (and quote)
# every element, which costs more than the insert itself.
PG_INSERT_ENTRIES = (
    f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) "
    "SELECT k, kind, e, p, memo, r, CAST(m AS JSON), h, s FROM unnest("
    "%b::text[], %b::text[], %b::timestamptz[], %b::timestamptz[], %b::text[], %b::bigint[], %b::text[], "
    "%b::text[], %b::bigint[]) AS t(k, kind, e, p, memo, r, m, h, s) "
    # The code-side closed-period check, folded into the insert to save a round trip:
    # a row it filters out comes back missing and the caller says why.
    "WHERE NOT EXISTS (SELECT 1 FROM ledger_closed_period c WHERE t.e >= c.starts_at AND t.e < c.ends_at) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq, idempotency_key"
)
PG_COPY_POSTINGS = f"COPY ledger_posting ({', '.join(POSTING_COLUMNS)}) FROM STDIN"

# PostgreSQL, small batches: the entries AND their postings in one statement.  The
# postings carry their entry's key and join the entries the INSERT actually made, so
# a replayed key or an entry refused for its closed period gets no postings; all
# postings of an entry are in this one statement, which is what the balance trigger
# checks at its end.  ``ORDER BY n`` keeps the postings in the order they were listed.
PG_INSERT_ENTRIES_WITH_POSTINGS = (
    "WITH e AS (" + PG_INSERT_ENTRIES + "), "
    f"p AS (INSERT INTO ledger_posting ({', '.join(POSTING_COLUMNS)}) "
    "SELECT e.seq, x.account_id, x.amount, x.currency "
    "FROM unnest(%b::text[], %b::int[], %b::bigint[], %b::text[]) "
    "WITH ORDINALITY AS x(k, account_id, amount, currency, n) "
    "JOIN e ON e.idempotency_key = x.k ORDER BY x.n) "
    "SELECT seq, idempotency_key FROM e"
)


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


@lru_cache(maxsize=4)
def fold_balance(dialect: str) -> str:
    """Set a guarded account's balance to a new total, all of it on shard 0 and the
    other shards emptied — unless the total crosses zero.  The caller read the old
    total with the rows locked (SQLite: the one writer)."""
    p = placeholder(dialect)
    return (
        f"UPDATE ledger_balance SET amount = CASE WHEN shard = 0 THEN {p} ELSE 0 END, version = version + 1, "
        f"last_seq = {p} WHERE account_id = {p} AND {p} * guard >= 0"
    )


@lru_cache(maxsize=4)
def account_total(dialect: str) -> str:
    return f"SELECT coalesce(sum(amount), 0) FROM ledger_balance WHERE account_id = {placeholder(dialect)}"


def _pg_move_balances(returning: str) -> str:
    """PostgreSQL: apply the moves in CTE ``d`` (account_id, shard, delta, last_seq,
    fold) to the balance rows, as a CTE ``u`` returning ``returning``.

    The ``locked`` CTE takes the row locks in (account, shard) order — ``ORDER BY …
    FOR UPDATE`` locks rows as the sort hands them out — so concurrent writers cannot
    deadlock; a plain move's row is one index probe, a fold's the account's range.
    A plain move adds its delta to one row, refused (missing from ``u``) if a
    guarded row would cross zero; ``b.amount`` is the row's latest committed
    value, re-read after any lock wait.  A fold (a guarded account with several
    shards moving towards zero) locks every shard row of the account, takes their
    sum — rows locked ``FOR UPDATE`` are read as committed after the wait — and puts
    the new total on shard 0 and zero on the rest, refused as a whole if the total
    would cross zero.  Either way every row stays on its side of zero, as the CHECK
    constraint says again.
    """
    return (
        "locked AS MATERIALIZED (SELECT b.account_id, b.shard, b.amount FROM ledger_balance b "
        f"JOIN d ON b.account_id = d.account_id AND b.shard BETWEEN d.shard AND CASE WHEN d.fold THEN {MAX_SHARDS - 1} "
        "ELSE d.shard END "
        "ORDER BY b.account_id, b.shard FOR UPDATE OF b), "
        "total AS (SELECT account_id, sum(amount) AS amount FROM locked GROUP BY account_id), "
        "u AS (UPDATE ledger_balance b SET amount = CASE WHEN NOT d.fold THEN b.amount + d.delta "
        "WHEN b.shard = 0 THEN t.amount + d.delta ELSE 0 END, version = b.version + 1, last_seq = d.last_seq "
        "FROM d JOIN total t ON t.account_id = d.account_id "
        "JOIN locked l ON l.account_id = d.account_id AND (l.shard = d.shard OR d.fold) "
        "WHERE b.account_id = l.account_id AND b.shard = l.shard "
        "AND (b.guard = 0 OR (CASE WHEN d.fold THEN t.amount ELSE b.amount END + d.delta) * b.guard >= 0) "
        f"RETURNING {returning})"
    )


# PostgreSQL: every balance move of a batch in ONE statement; a move the guard refused
# is missing from the result and the caller names its account.
PG_UPDATE_BALANCES = (
    "WITH d AS MATERIALIZED (SELECT * FROM unnest(%b::int[], %b::smallint[], %b::bigint[], %b::bigint[], "
    "%b::bool[]) AS d(account_id, shard, delta, last_seq, fold)), "
    + _pg_move_balances("b.account_id, b.shard")
    + " SELECT account_id, shard FROM u"
)


# PostgreSQL, ONE entry (a sale, a payout, a single metered use): the entry, its
# postings and its balance rows in one statement and one round trip.  Scalars, not
# arrays: binding a handful of one-element arrays costs more than the statement.
# The postings join the entry the INSERT actually made, so a replayed key (or an
# entry refused for its closed period) posts nothing and moves no balance.  Each
# line carries its account's shard count and whether its account folds (both decided
# by ``Ledger._post_one``); a plain move goes to shard ``seq % shards``, as in
# ``Ledger._balance_moves``.  The accounts whose guard refused come back in the
# third column (an empty array: all moved).
@lru_cache(maxsize=32)
def pg_post_one_entry(lines: int) -> str:
    values = ", ".join(f"(%s::int, %s::bigint, %s::text, %s::int, %s::bool, {n})" for n in range(lines))
    return (
        f"WITH e AS (INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) "
        "SELECT %s::text, %s::text, t.e, %s::timestamptz, %s::text, %s::bigint, CAST(%s::text AS JSON), %s::text, "
        "%s::bigint "
        "FROM (SELECT %s::timestamptz AS e) t "
        "WHERE NOT EXISTS (SELECT 1 FROM ledger_closed_period c WHERE t.e >= c.starts_at AND t.e < c.ends_at) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq, idempotency_key), "
        f"x(account_id, amount, currency, shards, fold, n) AS (VALUES {values}), "
        f"p AS (INSERT INTO ledger_posting ({', '.join(POSTING_COLUMNS)}) "
        "SELECT e.seq, x.account_id, x.amount, x.currency FROM e CROSS JOIN x ORDER BY x.n), "
        "d AS MATERIALIZED (SELECT x.account_id, CAST(e.seq %% x.shards AS smallint) AS shard, "
        "sum(x.amount) AS delta, e.seq AS last_seq, x.fold FROM e CROSS JOIN x "
        "GROUP BY x.account_id, x.shards, x.fold, e.seq HAVING sum(x.amount) <> 0), "
        + _pg_move_balances("b.account_id")
        + " SELECT e.seq, e.idempotency_key, ARRAY(SELECT account_id FROM d EXCEPT SELECT account_id FROM u) FROM e"
    )
