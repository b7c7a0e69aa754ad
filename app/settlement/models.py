"""Settlement tables: one run per period, one item per creator and currency.

``settlement_run``   one row per period ``YYYY-MM`` (UNIQUE: a period is settled by one
                     run, which a second start finds and resumes instead of repeating).
``settlement_item``  what the run decided for one creator in one currency — the payable
                     as of the period end, the reserve held back, the amount to pay — and
                     how far paying it has got.  UNIQUE (run, creator, currency).

Item states (the checkpoints of ``service.pay_item``)::

    planned ──post payout entry──▶ posted ──Stripe transfer──▶ paid ──webhook──▶ reversed
       │  ▲                          │                           └────────────▶ partially_reversed
       │  │                          ├──definitive refusal──▶ failed ──admin retry──▶ planned (attempt+1)
       │  │                          └──balance_insufficient──▶ awaiting_funds (entry reversed)
       └──┼──not enough available funds──▶ awaiting_funds (nothing posted)
          └────────funds available (scheduler, or the run started again)────┘
    held (creator cannot be paid: reason kept) · below_minimum (carried forward)

``recovered`` is what the run netted against money the creator owed after an earlier
refund (``creator:X:recoverable``), so ``amount = payable − reserve − recovered``.

Amounts are integer minor units of ``currency``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime

RUN_STATUSES = ("planned", "paying", "incomplete", "completed", "completed_with_failures")
ITEM_STATUSES = (
    "planned",
    "held",
    "below_minimum",
    "posted",
    "paid",
    "failed",
    "reversed",
    "partially_reversed",
    "awaiting_funds",
)
# An item in one of these states still has work to do when its run is started again.
UNFINISHED_ITEM_STATUSES = ("planned", "posted", "awaiting_funds")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _when(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def _count() -> Any:
    return Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class SettlementRun(SQLModel, table=True):
    __tablename__ = "settlement_run"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="ck_settlement_run_status"),
        CheckConstraint("period_start < period_end", name="ck_settlement_run_period"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    period: str = Field(sa_column=Column(String(7), nullable=False, unique=True))
    period_start: datetime = _when()
    period_end: datetime = _when()
    transfer_group: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    status: str = Field(default="planned", sa_column=Column(String(32), nullable=False))
    item_count: int = _count()
    paid_count: int = _count()
    held_count: int = _count()
    below_minimum_count: int = _count()
    failed_count: int = _count()
    created_by: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = _when()
    started_at: Optional[datetime] = _when(nullable=True)
    finished_at: Optional[datetime] = _when(nullable=True)


class SettlementItem(SQLModel, table=True):
    __tablename__ = "settlement_item"
    __table_args__ = (
        UniqueConstraint("run_id", "creator_id", "currency", name="uq_settlement_item_run_creator_currency"),
        CheckConstraint(_in("status", ITEM_STATUSES), name="ck_settlement_item_status"),
        CheckConstraint(
            "payable >= 0 AND reserve >= 0 AND recovered >= 0 AND amount >= 0 "
            "AND amount = payable - reserve - recovered",
            name="ck_settlement_item_money",
        ),
        CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="ck_settlement_item_reversed"),
        CheckConstraint("attempt >= 1", name="ck_settlement_item_attempt"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(sa_column=Column(Integer, ForeignKey("settlement_run.id"), nullable=False, index=True))
    creator_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=False, index=True))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    payable: int = Field(sa_column=Column(BigInteger, nullable=False))  # owed as of the period end
    reserve: int = Field(sa_column=Column(BigInteger, nullable=False))  # held back for holdback windows
    # netted against what the creator owed after an earlier refund (refund.recovered entries)
    recovered: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # payable - reserve - recovered
    reserve_entry_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    hold_reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    destination: Optional[str] = Field(default=None, sa_column=Column(String(255), nullable=True))
    attempt: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    transfer_id: Optional[str] = Field(default=None, sa_column=Column(String(255), nullable=True, unique=True))
    entry_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reversal_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reversed_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _when()
    updated_at: datetime = _when()
