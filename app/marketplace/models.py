"""Marketplace tables: people and brand organisations, API tokens, cameos with their
owners and consent, contract templates, offers, licences and the audit log.

Money is always an integer count of minor units (``*_minor``, BigInteger) next to an
ISO 4217 ``currency``.  Instants are ``UTCDateTime``.  Rules live in the services
(app/marketplace/*.py); the CHECK constraints and the template trigger here are the
database's second line of defence.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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

from ledger.types import UTCDateTime

ROLES = ("creator", "brand", "accountant", "admin")
CAMEO_KINDS = ("face", "voice", "persona", "pet", "object")
VISIBILITIES = ("only_me", "approved_brands", "licensed")
CAMEO_STATUSES = ("draft", "listed", "paused")
OFFER_STATUSES = ("open", "withdrawn")
LICENCE_STATUSES = ("requested", "approved", "declined", "signed", "paid", "active", "expired", "revoked")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    return Field(sa_column=Column(Integer, ForeignKey(target), nullable=nullable, index=index))


def _when(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def _str(length: int, *, default: Any = ..., nullable: bool = False) -> Any:
    kwargs = {} if default is ... else {"default": default}
    return Field(sa_column=Column(String(length), nullable=nullable), **kwargs)


def _text(*, default: str | None = None) -> Any:
    kwargs = {} if default is None else {"default": default}
    return Field(sa_column=Column(Text, nullable=False), **kwargs)


def _json(default_factory=list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "mk_user"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_mk_user_role"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    display_name: str = _str(120)
    password_hash: str = _str(300)
    role: str = _str(16)
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = _when()


class Organisation(SQLModel, table=True):
    __tablename__ = "mk_organisation"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    created_at: datetime = _when()


class Membership(SQLModel, table=True):
    __tablename__ = "mk_membership"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_user.id"), primary_key=True))
    organisation_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_organisation.id"), primary_key=True))
    created_at: datetime = _when()


class ApiToken(SQLModel, table=True):
    """A bearer token: only its sha256 is stored; ``prefix`` lets the owner tell them apart."""

    __tablename__ = "mk_api_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("mk_user.id")
    name: str = _str(100)
    prefix: str = _str(16)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = _when()
    last_used_at: Optional[datetime] = _when(nullable=True)
    revoked_at: Optional[datetime] = _when(nullable=True)


class Cameo(SQLModel, table=True):
    __tablename__ = "mk_cameo"
    __table_args__ = (
        CheckConstraint(_in("kind", CAMEO_KINDS), name="ck_mk_cameo_kind"),
        CheckConstraint(_in("visibility", VISIBILITIES), name="ck_mk_cameo_visibility"),
        CheckConstraint(_in("status", CAMEO_STATUSES), name="ck_mk_cameo_status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    creator_id: int = _fk("mk_user.id")
    kind: str = _str(16)
    title: str = _str(120)
    description: str = _text(default="")
    visibility: str = _str(20, default="only_me")
    status: str = _str(10, default="draft")
    blocked_categories: list[str] = _json()
    preview_path: Optional[str] = _str(300, nullable=True, default=None)
    preview_sha256: Optional[str] = _str(64, nullable=True, default=None)
    preview_content_type: Optional[str] = _str(40, nullable=True, default=None)
    created_at: datetime = _when()
    updated_at: datetime = _when()


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
    cameo_id: int = _fk("mk_cameo.id")
    signed_by: int = _fk("mk_user.id", index=False)
    recording_path: str = _str(300)
    recording_sha256: str = _str(64)
    recording_content_type: str = _str(40)
    recording_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    statement_text: str = _text()
    statement_sha256: str = _str(64)
    owners: list[dict[str, int]] = _json()
    signed_at: datetime = _when()
    signed_ip: str = _str(64)
    signed_user_agent: str = _str(500)
    withdrawn_at: Optional[datetime] = _when(nullable=True)
    withdrawn_ip: Optional[str] = _str(64, nullable=True, default=None)
    withdrawn_user_agent: Optional[str] = _str(500, nullable=True, default=None)


class ContractTemplate(SQLModel, table=True):
    """One published version of a standard contract.  Rows are immutable once
    ``published_at`` is set: the service never updates them and a trigger
    (migration 0002) rejects UPDATE and DELETE of published rows."""

    __tablename__ = "mk_contract_template"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_mk_contract_template_slug_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = _str(60)
    version: int = Field(sa_column=Column(Integer, nullable=False))
    title: str = _str(200)
    summary: str = _text(default="")
    body: str = _text()
    body_sha256: str = _str(64)
    defaults: dict[str, Any] = _json(dict)
    published_at: Optional[datetime] = _when(nullable=True)
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
    per_use_royalty_minor: int = Field(sa_type=BigInteger, nullable=False)
    currency: str = Field(max_length=3, nullable=False)
    holdback_days: int = Field(nullable=False)
    revocation_notice_days: int = Field(nullable=False)
    commission_bps: int = Field(nullable=False)


class Offer(_Terms, table=True):
    __tablename__ = "mk_offer"
    __table_args__ = (
        CheckConstraint(_in("status", OFFER_STATUSES), name="ck_mk_offer_status"),
        CheckConstraint("upfront_fee_minor >= 0 AND per_use_royalty_minor >= 0", name="ck_mk_offer_money"),
        CheckConstraint("commission_bps >= 0 AND commission_bps <= 10000", name="ck_mk_offer_commission"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    cameo_id: int = _fk("mk_cameo.id")
    template_id: int = _fk("mk_contract_template.id", index=False)
    created_by: int = _fk("mk_user.id", index=False)
    requires_approval: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    status: str = _str(10, default="open")
    created_at: datetime = _when()


class Licence(_Terms, table=True):
    __tablename__ = "mk_licence"
    __table_args__ = (
        CheckConstraint(_in("status", LICENCE_STATUSES), name="ck_mk_licence_status"),
        CheckConstraint("upfront_fee_minor >= 0 AND per_use_royalty_minor >= 0", name="ck_mk_licence_money"),
        Index("ix_mk_licence_status_ends_at", "status", "ends_at"),
        Index("uq_mk_licence_id_brand", "id", "brand_org_id", unique=True),  # a use names its licence and brand
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    offer_id: int = _fk("mk_offer.id")
    cameo_id: int = _fk("mk_cameo.id")
    template_id: int = _fk("mk_contract_template.id", index=False)
    brand_org_id: int = _fk("mk_organisation.id")
    requested_by: int = _fk("mk_user.id", index=False)
    status: str = _str(10, default="requested")
    intended_use: str = _text()
    categories: list[str] = _json()
    term_start: datetime = _when()
    term_end: datetime = _when()
    ends_at: datetime = _when()  # term_end, or earlier once a revocation winds the licence down
    owners: list[dict[str, int]] = _json()  # [{"user_id": 7, "share_bps": 6000}, ...] at signing
    contract_text: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    contract_sha256: Optional[str] = _str(64, nullable=True, default=None)
    creator_signature: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    brand_signature: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    payment_ref: Optional[str] = _str(200, nullable=True, default=None)
    paid_at: Optional[datetime] = _when(nullable=True)
    activated_at: Optional[datetime] = _when(nullable=True)
    revocation_requested_at: Optional[datetime] = _when(nullable=True)
    ended_at: Optional[datetime] = _when(nullable=True)
    end_reason: Optional[str] = _str(200, nullable=True, default=None)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class AuditEvent(SQLModel, table=True):
    """Who did what to which object, when and from where.  Append-only."""

    __tablename__ = "mk_audit_event"
    __table_args__ = (Index("ix_mk_audit_event_object", "object_type", "object_id"),)

    id: Optional[int] = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True))
    at: datetime = _when()
    actor_id: Optional[int] = Field(default=None, sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=True))
    action: str = _str(60)
    object_type: str = _str(30)
    object_id: int = Field(sa_column=Column(Integer, nullable=False))
    from_status: Optional[str] = _str(20, nullable=True, default=None)
    to_status: Optional[str] = _str(20, nullable=True, default=None)
    ip: str = _str(64, default="")
    user_agent: str = _str(500, default="")
    details: dict[str, Any] = _json(dict)
