"""The accounting tables: one close report per closed month.

``accounting_period_close`` records what the book looked like when the period was
closed — the trial balance at its end (integers per account and currency), the
reconciliation summary and its unmatched rows, counts — and who closed it, when, and
why they overrode an unreconciled close.  The lock itself is the ledger's
``ledger_closed_period`` row (``ledger_period_id``); this row is its report.  Neither
is ever updated: a correction after close is a reversal in the next open period.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime


class PeriodClose(SQLModel, table=True):
    __tablename__ = "accounting_period_close"

    id: Optional[int] = Field(default=None, primary_key=True)
    period: str = Field(sa_column=Column(String(7), nullable=False, unique=True))
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_by: str = Field(sa_column=Column(String(254), nullable=False))
    closed_by_user_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=True)
    )
    override_reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    ledger_period_id: int = Field(
        sa_column=Column(Integer, ForeignKey("ledger_closed_period.id"), nullable=False, unique=True)
    )
    entry_count: int = Field(sa_column=Column(Integer, nullable=False))
    posting_count: int = Field(sa_column=Column(Integer, nullable=False))
    unmatched_count: int = Field(sa_column=Column(Integer, nullable=False))
    trial_balance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reconciliation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
