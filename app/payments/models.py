"""Payments tables: Stripe webhook events as received, and licence fee payments.

``stripe_event`` is the inbox: each verified event is stored once by its Stripe id
(committed before any processing), then processed in its own unit of work; an event
that cannot be applied yet keeps ``processed_at`` NULL and is retried.

``licence_payment`` is one row per licence: the Checkout Session that collects the
upfront fee, what Stripe charged (charge, fee) and the ledger entry of the sale.
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
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from ledger.models import table_of
from ledger.types import UTCDateTime

LICENCE_PAYMENT_STATUSES = ("open", "paid", "refunded", "partially_refunded", "disputed")


def _when(*, nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_column=Column(UTCDateTime(), nullable=nullable))


def _str(length: int, *, nullable: bool = False, default: Any = ..., unique: bool = False) -> Any:
    if nullable and default is ...:
        default = None
    return Field(default=default, sa_column=Column(String(length), nullable=nullable, unique=unique))


class StripeEvent(SQLModel, table=True):
    __tablename__ = "stripe_event"
    __table_args__ = (Index("ix_stripe_event_pending", "processed_at", "created"),)

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    type: str = _str(100)
    account: Optional[str] = _str(255, nullable=True)
    created: datetime = _when()
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _when()
    processed_at: Optional[datetime] = _when(nullable=True)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class LicencePayment(SQLModel, table=True):
    __tablename__ = "licence_payment"
    __table_args__ = (
        CheckConstraint(
            "status IN ('" + "', '".join(LICENCE_PAYMENT_STATUSES) + "')", name="ck_licence_payment_status"
        ),
        CheckConstraint(
            "amount > 0 AND refunded_amount >= 0 AND refunded_amount <= amount", name="ck_licence_payment_money"
        ),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    licence_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_licence.id"), nullable=False, unique=True))
    checkout_session_id: Optional[str] = _str(255, nullable=True, unique=True)
    checkout_attempt: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    payment_intent_id: Optional[str] = _str(255, nullable=True, unique=True)
    charge_id: Optional[str] = _str(255, nullable=True)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = _str(3)
    fee: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = _str(20, default="open")
    sale_entry_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    refunded_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    disputed_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    paid_at: Optional[datetime] = _when(nullable=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class LicencePaymentAdjustment(SQLModel, table=True):
    """A refund or dispute of a licence payment, applied once per Stripe refund/dispute id."""

    __tablename__ = "licence_payment_adjustment"
    __table_args__ = (
        CheckConstraint("kind IN ('refund', 'dispute')", name="ck_licence_payment_adjustment_kind"),
        CheckConstraint("amount > 0 AND fee >= 0", name="ck_licence_payment_adjustment_money"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    licence_payment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("licence_payment.id"), nullable=False, index=True)
    )
    kind: str = _str(10)
    stripe_id: str = _str(255, unique=True)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    fee: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    entry_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    effective_at: datetime = _when()
    created_at: datetime = _when()


USAGE_INVOICE_STATUSES = ("open", "paid", "void")


class UsageInvoice(SQLModel, table=True):
    """A brand's metered usage (its receivable) for one period and currency, paid through Checkout."""

    __tablename__ = "usage_invoice"
    __table_args__ = (
        CheckConstraint("status IN ('" + "', '".join(USAGE_INVOICE_STATUSES) + "')", name="ck_usage_invoice_status"),
        CheckConstraint("amount > 0 AND period_end > period_start", name="ck_usage_invoice_amount_period"),
        UniqueConstraint("brand_org_id", "currency", "period_start", name="uq_usage_invoice_brand_period"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    brand_org_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_organisation.id"), nullable=False, index=True))
    currency: str = _str(3)
    period_start: datetime = _when()
    period_end: datetime = _when()
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = _str(10, default="open")
    checkout_session_id: Optional[str] = _str(255, nullable=True, unique=True)
    payment_intent_id: Optional[str] = _str(255, nullable=True, unique=True)
    charge_id: Optional[str] = _str(255, nullable=True)
    fee: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    entry_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    paid_at: Optional[datetime] = _when(nullable=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class ConnectAccount(SQLModel, table=True):
    """A creator's Stripe Connect account, as Stripe last told us (``account.updated``).

    One per creator.  ``payouts_enabled`` and ``requirements_due`` are copied from the
    newest account object seen (``stripe_updated_at`` guards against an older event
    overwriting a newer one); settlement reads them to decide whether to pay or hold.
    """

    __tablename__ = "connect_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    creator_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=False, unique=True))
    stripe_account_id: str = _str(255, unique=True)
    country: str = _str(2)
    charges_enabled: bool = Field(default=False, nullable=False)
    payouts_enabled: bool = Field(default=False, nullable=False)
    details_submitted: bool = Field(default=False, nullable=False)
    requirements_due: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stripe_updated_at: Optional[datetime] = _when(nullable=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()


stripe_event_table = table_of(StripeEvent)
