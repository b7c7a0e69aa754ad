"""The statements of the usage write path, each one round trip for a whole batch.

``report_usage`` runs on the request's hot path, so it reads and writes through
SQLAlchemy Core (no ORM objects, no flushes) with statements built once.  On
PostgreSQL the inserts bind one array per column and ``unnest`` them: the statement
text never changes with the batch size, so psycopg prepares it once per connection
and the server neither re-parses nor re-plans it (SQLAlchemy's multi-row VALUES
would send — and make psycopg parse — a new statement of 15 binds per row), and the
arrays go in binary (``%b``), which spares psycopg quoting every element.  SQLite
takes the same rows through ordinary Core inserts.

A use's receipt is written with it, in the same row and the same INSERT.

Locks: licences without a usage cap or an advance are read ``FOR SHARE`` (a concurrent
revocation waits, other reporters do not); capped ones and ones whose uses recoup an
advance ``FOR UPDATE`` (their uses are counted, or draw on what is left of the
advance, so reporters against one such licence take turns).  Shared locks are taken first,
in one statement, then exclusive ones, each in licence id order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ARRAY, Connection, Integer, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects import sqlite

from app.marketplace.models import licence_table
from ledger.canonical import iso_utc
from ledger.sql import on_driver, pg_text

from .models import usage_event_table

USAGE_COLUMNS = (
    "brand_org_id",
    "event_id",
    "licence_id",
    "reported_by",
    "kind",
    "quantity",
    "occurred_at",
    "territory",
    "media",
    "content_sha256",
    "content_url",
    "price_minor",
    "currency",
    "ledger_key",
    "recorded_at",
    "receipt_id",
    "receipt_key_id",
    "receipt_token",
)
_PG_USAGE_TYPES = (
    "int",
    "text",
    "int",
    "int",
    "text",
    "bigint",
    "timestamptz",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "text",
    "text",
    "timestamptz",
    "text",
    "text",
    "text",
)
PG_INSERT_USAGE = (
    f"INSERT INTO mt_usage_event ({', '.join(USAGE_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%b::{t}[]" for t in _PG_USAGE_TYPES)
    + ") ON CONFLICT (brand_org_id, event_id) DO NOTHING RETURNING id, brand_org_id, event_id"
)
# one row (a single-event report): scalars, which bind cheaper than 18 one-element arrays
PG_INSERT_ONE_USAGE = (
    f"INSERT INTO mt_usage_event ({', '.join(USAGE_COLUMNS)}) VALUES ("
    + ", ".join(f"%s::{t}" for t in _PG_USAGE_TYPES)
    + ") ON CONFLICT (brand_org_id, event_id) DO NOTHING RETURNING id, brand_org_id, event_id"
)
CHUNK = 500  # rows per statement on SQLite (18 binds a row, under its 32,766 limit)


@dataclass(frozen=True, slots=True)
class Terms:
    """What reporting a use needs to know of its licence (not the contract text)."""

    id: int
    brand_org_id: int
    cameo_id: int
    status: str
    term_start: datetime
    ends_at: datetime
    territories: list[str]
    media: list[str]
    owners: list[dict[str, int]]
    usage_cap: int | None
    advance_minor: int
    per_use_royalty_minor: int
    commission_bps: int
    currency: str
    contract_sha256: str | None


class UsageRef(NamedTuple):
    """A recorded use, as the API answers it."""

    id: int
    price_minor: int
    currency: str


class ReceiptRef(NamedTuple):
    id: str
    token: str


class Recorded(NamedTuple):
    """A use recorded before under an event id: its answer, and what it said (``content``)."""

    usage: UsageRef
    receipt: ReceiptRef
    content: tuple[object, ...]


def content(
    licence_id: int,
    kind: str,
    quantity: int,
    occurred_at: datetime,
    territory: str,
    media: str,
    content_sha256: str | None,
    content_url: str | None,
) -> tuple[object, ...]:
    """What a use says, comparable between a report and a recorded row: the same event id
    with other content is a conflict, never a duplicate."""
    return (licence_id, kind, int(quantity), iso_utc(occurred_at), territory, media, content_sha256, content_url)


_TERMS_COLUMNS = tuple(licence_table.c[name] for name in Terms.__slots__)
_TERMS = (
    select(*_TERMS_COLUMNS).where(licence_table.c.id.in_(bindparam("ids", expanding=True))).order_by(licence_table.c.id)
)
# shared: no cap and no advance (a literal 0, so the compiled PostgreSQL text binds only the ids)
_SHAREABLE = (licence_table.c.usage_cap.is_(None), licence_table.c.advance_minor == literal_column("0"))
_SHARED = _TERMS.where(*_SHAREABLE).with_for_update(read=True)
_EXCLUSIVE = _TERMS.with_for_update()
# PostgreSQL: the same two reads with ``= ANY(array)``: fixed text, run on the driver
_TERMS_ANY = (
    select(*_TERMS_COLUMNS)
    .where(licence_table.c.id == any_(bindparam("ids", type_=ARRAY(Integer))))
    .order_by(licence_table.c.id)
)
_PG_SHARED = _TERMS_ANY.where(*_SHAREABLE).with_for_update(read=True)
_PG_EXCLUSIVE = _TERMS_ANY.with_for_update()
CONTENT_COLUMNS = (
    "licence_id",
    "kind",
    "quantity",
    "occurred_at",
    "territory",
    "media",
    "content_sha256",
    "content_url",
)
_RECORDED = select(
    usage_event_table.c.event_id,
    usage_event_table.c.id,
    usage_event_table.c.price_minor,
    usage_event_table.c.currency,
    usage_event_table.c.receipt_id,
    usage_event_table.c.receipt_token,
    *(usage_event_table.c[name] for name in CONTENT_COLUMNS),
).where(
    usage_event_table.c.brand_org_id == bindparam("org_id"),
    usage_event_table.c.event_id.in_(bindparam("event_ids", expanding=True)),
)
_USED = (
    select(usage_event_table.c.licence_id, func.sum(usage_event_table.c.quantity))
    .where(usage_event_table.c.licence_id.in_(bindparam("ids", expanding=True)))
    .group_by(usage_event_table.c.licence_id)
)
_SQLITE_INSERT_USAGE = (
    sqlite.insert(usage_event_table)
    .on_conflict_do_nothing(index_elements=["brand_org_id", "event_id"])
    .returning(usage_event_table.c.id, usage_event_table.c.brand_org_id, usage_event_table.c.event_id)
)


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lock_licences(conn: Connection, ids: Sequence[int]) -> dict[int, Terms]:
    if conn.dialect.name == "postgresql":

        def read(shared: bool, wanted: list[int]):
            return on_driver(conn, pg_text(_PG_SHARED if shared else _PG_EXCLUSIVE), {"ids": wanted})
    else:

        def read(shared: bool, wanted: list[int]):
            return conn.execute(_SHARED if shared else _EXCLUSIVE, {"ids": wanted})

    found = {row[0]: Terms(*row) for row in read(True, list(ids))}
    capped = [i for i in ids if i not in found]
    if capped:
        found.update((row[0], Terms(*row)) for row in read(False, capped))
    return found


def recorded(conn: Connection, org_id: int, event_ids: Iterable[str]) -> dict[str, Recorded]:
    """Uses the brand recorded before under these event ids, with their receipts and content."""
    found = {}
    for chunk in _chunks(sorted(set(event_ids))):
        for event_id, usage_id, price, currency, receipt_id, token, *said in conn.execute(
            _RECORDED, {"org_id": org_id, "event_ids": list(chunk)}
        ):
            found[event_id] = Recorded(
                UsageRef(usage_id, price, currency), ReceiptRef(receipt_id, token), content(*said)
            )
    return found


def used(conn: Connection, licence_ids: Sequence[int]) -> dict[int, int]:
    """Uses recorded so far per licence (call with the licences locked)."""
    totals = dict.fromkeys(licence_ids, 0)
    totals.update((lid, int(total)) for lid, total in conn.execute(_USED, {"ids": list(licence_ids)}))
    return totals


def insert_usage(conn: Connection, rows: Sequence[tuple]) -> dict[tuple[int, str], int]:
    """Insert rows (``USAGE_COLUMNS`` order) unless their (brand, event id) exists:
    {(brand, event id): new id} for the rows that went in.  Rows go in (brand, event id)
    order, so two reports racing on the same events wait for each other in the same
    order (no deadlock) and one of them records all the events they share."""
    rows = sorted(rows, key=lambda row: (row[0], row[1]))
    if conn.dialect.name == "postgresql":
        if len(rows) == 1:
            result = on_driver(conn, PG_INSERT_ONE_USAGE, tuple(rows[0]))
        else:
            result = on_driver(conn, PG_INSERT_USAGE, tuple(list(column) for column in zip(*rows, strict=True)))
        return {(org_id, event_id): usage_id for usage_id, org_id, event_id in result}
    inserted = {}
    for chunk in _chunks(rows):
        for usage_id, org_id, event_id in conn.execute(
            _SQLITE_INSERT_USAGE, [dict(zip(USAGE_COLUMNS, row, strict=True)) for row in chunk]
        ):
            inserted[(org_id, event_id)] = usage_id
    return inserted
