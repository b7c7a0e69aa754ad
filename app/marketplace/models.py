"""Marketplace tables: people and brand organisations, API tokens, cameos with their
owners and consent, contract templates, offers, licences and the audit log.

Money is always an integer count of minor units (``*_minor``, BigInteger) next to an
ISO 4217 ``currency``.  Instants are ``UTCDateTime``.  Rules live in the services
(app/marketplace/*.py); the CHECK constraints and the template trigger here are the
database's second line of defence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.columns import foreign_key, instant, json_value, one_of, string, text
from ledger.models import table_of

# The Literal types are what the API validates against; the tuples, read from them, feed the
# database's CHECK constraints and the forms' choices.
CameoKind = Literal["face", "voice", "persona", "pet", "object"]
CAMEO_KINDS: tuple[str, ...] = get_args(CameoKind)
Visibility = Literal["only_me", "approved_brands", "licensed"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
CAMEO_STATUSES = ("draft", "listed", "paused")
OFFER_STATUSES = ("open", "withdrawn")
LicenceStatus = Literal["requested", "approved", "declined", "signed", "paid", "active", "expired", "revoked"]
LICENCE_STATUSES: tuple[str, ...] = get_args(LicenceStatus)


class Cameo(SQLModel, table=True):
    __tablename__ = "mk_cameo"
    __table_args__ = (
        CheckConstraint(one_of("kind", CAMEO_KINDS), name="ck_mk_cameo_kind"),
        CheckConstraint(one_of("visibility", VISIBILITIES), name="ck_mk_cameo_visibility"),
        CheckConstraint(one_of("status", CAMEO_STATUSES), name="ck_mk_cameo_status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    creator_id: int = foreign_key("mk_user.id")
    kind: str = string(16)
    title: str = string(120)
    description: str = text(default="")
    visibility: str = string(20, default="only_me")
    status: str = string(10, default="draft")
    blocked_categories: list[str] = json_value()
    preview_path: Optional[str] = string(300, nullable=True, default=None)
    preview_sha256: Optional[str] = string(64, nullable=True, default=None)
    preview_content_type: Optional[str] = string(40, nullable=True, default=None)
    created_at: datetime = instant()
    updated_at: datetime = instant()


class CameoOwner(SQLModel, table=True):
    """A co-owner's share of a cameo in basis points; a cameo's shares sum to 10000."""

    __tablename__ = "mk_cameo_owner"
    __table_args__ = (CheckConstraint("share_bps > 0 AND share_bps <= 10000", name="ck_mk_cameo_owner_share"),)

    cameo_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_cameo.id"), primary_key=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_user.id"), primary_key=True, index=True))
    share_bps: int = Field(sa_column=Column(Integer, nullable=False))


class CameoApprovedBrand(SQLModel, table=True):
    __tablename__ = "mk_cameo_approved_brand"

    cameo_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_cameo.id"), primary_key=True))
    organisation_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_organisation.id"), primary_key=True))


class Consent(SQLModel, table=True):
    """Consent evidence: the liveness recording's hash and the signed statement."""

    __tablename__ = "mk_consent"

    id: Optional[int] = Field(default=None, primary_key=True)
    cameo_id: int = foreign_key("mk_cameo.id")
    signed_by: int = foreign_key("mk_user.id", index=False)
    recording_path: str = string(300)
    recording_sha256: str = string(64)
    recording_content_type: str = string(40)
    recording_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    statement_text: str = text()
    statement_sha256: str = string(64)
    owners: list[dict[str, int]] = json_value()
    signed_at: datetime = instant()
    signed_ip: str = string(64)
    signed_user_agent: str = string(500)
    withdrawn_at: Optional[datetime] = instant(nullable=True)
    withdrawn_ip: Optional[str] = string(64, nullable=True, default=None)
    withdrawn_user_agent: Optional[str] = string(500, nullable=True, default=None)


class ContractTemplate(SQLModel, table=True):
    """One published version of a standard contract.  Rows are immutable once
    ``published_at`` is set: the service never updates them and a trigger
    (migration 0002) rejects UPDATE and DELETE of published rows."""

    __tablename__ = "mk_contract_template"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_mk_contract_template_slug_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = string(60)
    version: int = Field(sa_column=Column(Integer, nullable=False))
    title: str = string(200)
    summary: str = text(default="")
    body: str = text()
    body_sha256: str = string(64)
    defaults: dict[str, Any] = json_value(dict)
    published_at: Optional[datetime] = instant(nullable=True)
    created_by: Optional[int] = Field(default=None, sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=True))


class _Terms(SQLModel):
    """The licence parameters shared by an offer and the licences made from it.
    (``sa_type`` rather than ``sa_column`` so each table gets columns of its own.)"""

    media: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    territories: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    term_days: int = Field(nullable=False)
    exclusivity: bool = Field(nullable=False)
    usage_cap: Optional[int] = Field(default=None, sa_type=BigInteger, nullable=True)
    upfront_fee_minor: int = Field(sa_type=BigInteger, nullable=False)
    # a minimum guarantee paid with the fee: uses recoup it, the rest is earned at the end
    advance_minor: int = Field(default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"})
    per_use_royalty_minor: int = Field(sa_type=BigInteger, nullable=False)
    currency: str = Field(max_length=3, nullable=False)
    holdback_days: int = Field(nullable=False)
    revocation_notice_days: int = Field(nullable=False)
    commission_bps: int = Field(nullable=False)


class Offer(_Terms, table=True):
    __tablename__ = "mk_offer"
    __table_args__ = (
        CheckConstraint(one_of("status", OFFER_STATUSES), name="ck_mk_offer_status"),
        CheckConstraint("upfront_fee_minor >= 0 AND per_use_royalty_minor >= 0", name="ck_mk_offer_money"),
        CheckConstraint("advance_minor >= 0", name="ck_mk_offer_advance"),
        CheckConstraint("commission_bps >= 0 AND commission_bps <= 10000", name="ck_mk_offer_commission"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    cameo_id: int = foreign_key("mk_cameo.id")
    template_id: int = foreign_key("mk_contract_template.id", index=False)
    created_by: int = foreign_key("mk_user.id", index=False)
    requires_approval: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    status: str = string(10, default="open")
    created_at: datetime = instant()


class Licence(_Terms, table=True):
    __tablename__ = "mk_licence"
    __table_args__ = (
        CheckConstraint(one_of("status", LICENCE_STATUSES), name="ck_mk_licence_status"),
        CheckConstraint("upfront_fee_minor >= 0 AND per_use_royalty_minor >= 0", name="ck_mk_licence_money"),
        CheckConstraint("advance_minor >= 0", name="ck_mk_licence_advance"),
        Index("ix_mk_licence_status_ends_at", "status", "ends_at"),
        Index("uq_mk_licence_id_brand", "id", "brand_org_id", unique=True),  # a use names its licence and brand
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    offer_id: int = foreign_key("mk_offer.id")
    cameo_id: int = foreign_key("mk_cameo.id")
    template_id: int = foreign_key("mk_contract_template.id", index=False)
    brand_org_id: int = foreign_key("mk_organisation.id")
    requested_by: int = foreign_key("mk_user.id", index=False)
    status: str = string(10, default="requested")
    intended_use: str = text()
    categories: list[str] = json_value()
    term_start: datetime = instant()
    term_end: datetime = instant()
    ends_at: datetime = instant()  # term_end, or earlier once a revocation winds the licence down
    owners: list[dict[str, int]] = json_value()  # [{"user_id": 7, "share_bps": 6000}, ...] at signing
    contract_text: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    contract_sha256: Optional[str] = string(64, nullable=True, default=None)
    creator_signature: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    brand_signature: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    payment_ref: Optional[str] = string(200, nullable=True, default=None)
    paid_at: Optional[datetime] = instant(nullable=True)
    activated_at: Optional[datetime] = instant(nullable=True)
    revocation_requested_at: Optional[datetime] = instant(nullable=True)
    ended_at: Optional[datetime] = instant(nullable=True)
    end_reason: Optional[str] = string(200, nullable=True, default=None)
    created_at: datetime = instant()
    updated_at: datetime = instant()

    @property
    def amount_due_minor(self) -> int:
        """What the brand pays through Checkout before the licence is active: fee and advance."""
        return self.upfront_fee_minor + self.advance_minor


licence_table = table_of(Licence)
