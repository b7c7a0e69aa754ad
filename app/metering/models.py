"""Metering table: each reported derivative use, with the signed receipt it earned.

``mt_usage_event`` is unique on (brand organisation, the brand's own event id): the
database, not only the service, makes a re-sent event a duplicate, and its foreign
key to the licence's (id, brand) makes a use of another brand's licence impossible.
Amounts are integer minor units next to their ISO 4217 currency.  A row is written
once, receipt included (a use is corrected in the ledger by a reversal, never by
editing its row).  ``ledger_key`` is the idempotency key of the ``usage.royalty``
entry that posted the use (one entry per licence per report).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Optional, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from ledger.models import table_of
from ledger.types import UTCDateTime

UsageKind = Literal["render", "publication", "impressions"]
USAGE_KINDS: tuple[str, ...] = get_args(UsageKind)


class UsageEvent(SQLModel, table=True):
    __tablename__ = "mt_usage_event"
    __table_args__ = (
        UniqueConstraint("brand_org_id", "event_id", name="uq_mt_usage_event_brand_event"),
        CheckConstraint("quantity > 0", name="ck_mt_usage_event_quantity"),
        CheckConstraint("price_minor >= 0", name="ck_mt_usage_event_price"),
        CheckConstraint("kind IN ('render', 'publication', 'impressions')", name="ck_mt_usage_event_kind"),
        Index("ix_mt_usage_event_licence_id_id", "licence_id", "id"),
        ForeignKeyConstraint(
            ["licence_id", "brand_org_id"],
            ["mk_licence.id", "mk_licence.brand_org_id"],
            name="fk_mt_usage_event_licence_brand",
        ),
    )

    id: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    brand_org_id: int = Field(sa_column=Column(Integer, nullable=False))
    event_id: str = Field(sa_column=Column(String(200), nullable=False))
    licence_id: int = Field(sa_column=Column(Integer, nullable=False))
    reported_by: int = Field(sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    quantity: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    territory: str = Field(sa_column=Column(String(16), nullable=False))
    media: str = Field(sa_column=Column(String(20), nullable=False))
    content_sha256: Optional[str] = Field(default=None, sa_column=Column(String(64), nullable=True))
    content_url: Optional[str] = Field(default=None, sa_column=Column(String(2000), nullable=True))
    price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    ledger_key: Optional[str] = Field(default=None, sa_column=Column(String(300), nullable=True))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # the receipt: ``token`` is the compact receipt handed to the brand (see receipts.py)
    receipt_id: str = Field(sa_column=Column(String(40), nullable=False))
    receipt_key_id: str = Field(sa_column=Column(String(64), nullable=False))
    receipt_token: str = Field(sa_column=Column(Text, nullable=False))


usage_event_table = table_of(UsageEvent)
