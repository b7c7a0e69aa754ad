"""Tables of the book.

``ledger_account``  chart of accounts; a posting's (account_id, currency) must match
                    the account's (composite foreign key), so a posting can never be
                    in another currency than its account.
``ledger_entry``    journal entries; ``seq`` is the primary key, allocated in insert
                    order.  ``content_hash`` is the sha256 of the entry's canonical
                    form (ledger.canonical), computed when it is posted.  ``subject``
                    is what the entry is about in the application's own terms — the
                    integer value of one metadata key the application names
                    (``Ledger(subject_key=…)``) — kept in an indexed column so
                    queries by subject need not read JSON; it is derived from the
                    hashed metadata, so ``verify`` checks it too.
``ledger_posting``  signed amounts: positive debits, negative credits, never zero.
``ledger_balance``  the only mutable rows: the running balance of each account,
                    updated in the posting transaction.  Quiet accounts have one row
                    (shard 0); busy ones (house accounts, payables, receivables)
                    spread their balance over a few shard rows so concurrent writers
                    do not queue on one row lock.  A balance is the sum of its rows:
                    O(shards), a handful.  ``guard`` is the database's copy of the
                    non-negative rule, checked on every row (ledger.book keeps each
                    row of a guarded account on its side of zero).
``ledger_seal``     the hash chain, written by the sealer after commit in ``seq``
                    order: ``hash = sha256(prev_hash || seq || posted_at || content_hash)``.
``ledger_closed_period``  half-open [starts_at, ends_at) ranges nobody may post into.

Entries, postings, seals and closed periods are append-only; the migration installs
triggers (ledger.ddl) that reject UPDATE and DELETE on them.

Queries that want SQLAlchemy Core (bulk inserts, aggregates, joins without loading
objects) use the ``*_table`` objects below.  SQLModel attaches ``__table__`` to a
model class at runtime, out of the type checker's sight; ``table_of`` reaches the
same ``Table`` through SQLAlchemy's mapper, typed, so every module imports these
instead of repeating ``Entry.__table__``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    inspect,
    text,
)
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

ACCOUNT_TYPES = ("asset", "liability", "equity", "revenue", "expense")
# Debit-normal accounts carry positive balances, credit-normal ones negative.
NORMAL_SIGN = {"asset": 1, "expense": 1, "liability": -1, "equity": -1, "revenue": -1}


class Account(SQLModel, table=True):
    __tablename__ = "ledger_account"
    __table_args__ = (
        UniqueConstraint("id", "currency", name="uq_ledger_account_id_currency"),
        CheckConstraint(
            "type IN ('asset','liability','equity','revenue','expense')",
            name="ck_ledger_account_type",
        ),
        CheckConstraint("shards >= 1 AND shards <= 64", name="ck_ledger_account_shards"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    type: str = Field(sa_column=Column(String(16), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    allow_negative: bool = Field(default=False, nullable=False)
    shards: int = Field(default=1, sa_column=Column(SmallInteger, nullable=False, server_default="1"))
    name: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))

    @property
    def normal_sign(self) -> int:
        return NORMAL_SIGN[self.type]


class Entry(SQLModel, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_effective_at", "effective_at"),
        Index(
            "ix_ledger_entry_subject",
            "subject",
            sqlite_where=text("subject IS NOT NULL"),
            postgresql_where=text("subject IS NOT NULL"),
        ),
    )

    seq: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    effective_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    posted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    memo: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    reverses_seq: Optional[int] = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("ledger_entry.seq"), unique=True, nullable=True),
    )
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    subject: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class Posting(SQLModel, table=True):
    __tablename__ = "ledger_posting"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "currency"],
            ["ledger_account.id", "ledger_account.currency"],
            name="fk_ledger_posting_account_currency",
        ),
        CheckConstraint("amount <> 0", name="ck_ledger_posting_nonzero"),
        Index("ix_ledger_posting_account_entry", "account_id", "entry_seq"),
    )

    id: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    entry_seq: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_entry.seq"), nullable=False, index=True))
    account_id: int = Field(sa_column=Column(Integer, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))


class Balance(SQLModel, table=True):
    __tablename__ = "ledger_balance"
    __table_args__ = (
        CheckConstraint("guard IN (-1, 0, 1)", name="ck_ledger_balance_guard_values"),
        CheckConstraint("guard = 0 OR amount * guard >= 0", name="ck_ledger_balance_not_below_zero"),
    )

    account_id: int = Field(sa_column=Column(Integer, ForeignKey("ledger_account.id"), primary_key=True))
    shard: int = Field(default=0, sa_column=Column(SmallInteger, primary_key=True, server_default="0"))
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    guard: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0"))


class Seal(SQLModel, table=True):
    __tablename__ = "ledger_seal"

    seq: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_entry.seq"), primary_key=True))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    sealed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ClosedPeriod(SQLModel, table=True):
    __tablename__ = "ledger_closed_period"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="ck_ledger_closed_period_range"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_by: str = Field(sa_column=Column(String(200), nullable=False))


def table_of(model: type[SQLModel]) -> Table:
    """The Core ``Table`` of a SQLModel table class."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


account_table = table_of(Account)
entry_table = table_of(Entry)
posting_table = table_of(Posting)
balance_table = table_of(Balance)
seal_table = table_of(Seal)
closed_period_table = table_of(ClosedPeriod)

LEDGER_TABLES = (
    "ledger_account",
    "ledger_entry",
    "ledger_posting",
    "ledger_balance",
    "ledger_seal",
    "ledger_closed_period",
)
APPEND_ONLY_TABLES = ("ledger_entry", "ledger_posting", "ledger_seal", "ledger_closed_period")
