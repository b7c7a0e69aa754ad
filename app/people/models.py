"""People: users, brand organisations and their members, API tokens, and the audit log.

These tables sit under every feature: each service call is authorised against an
``Actor`` built from them (``app.people.actors``), and every transition is written to
the audit log with the person who made it.  Table names keep their historical ``mk_``
prefix (migrations 0002 and later).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlmodel import Field, SQLModel

from app.columns import foreign_key, instant, json_value, one_of, string
from ledger.models import table_of

ROLES = ("creator", "brand", "accountant", "admin")


class User(SQLModel, table=True):
    __tablename__ = "mk_user"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="ck_mk_user_role"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    display_name: str = string(120)
    password_hash: str = string(300)
    role: str = string(16)
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = instant()


class Organisation(SQLModel, table=True):
    __tablename__ = "mk_organisation"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    created_at: datetime = instant()


class Membership(SQLModel, table=True):
    __tablename__ = "mk_membership"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_user.id"), primary_key=True))
    organisation_id: int = Field(sa_column=Column(Integer, ForeignKey("mk_organisation.id"), primary_key=True))
    created_at: datetime = instant()


class ApiToken(SQLModel, table=True):
    """A bearer token: only its sha256 is stored; ``prefix`` lets the owner tell them apart."""

    __tablename__ = "mk_api_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = foreign_key("mk_user.id")
    name: str = string(100)
    prefix: str = string(16)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = instant()
    last_used_at: Optional[datetime] = instant(nullable=True)
    revoked_at: Optional[datetime] = instant(nullable=True)


class AuditEvent(SQLModel, table=True):
    """Who did what to which object, when and from where.  Append-only."""

    __tablename__ = "mk_audit_event"
    __table_args__ = (Index("ix_mk_audit_event_object", "object_type", "object_id"),)

    id: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    at: datetime = instant()
    actor_id: Optional[int] = Field(default=None, sa_column=Column(Integer, ForeignKey("mk_user.id"), nullable=True))
    action: str = string(60)
    object_type: str = string(30)
    object_id: int = Field(sa_column=Column(Integer, nullable=False))
    from_status: Optional[str] = string(20, nullable=True, default=None)
    to_status: Optional[str] = string(20, nullable=True, default=None)
    ip: str = string(64, default="")
    user_agent: str = string(500, default="")
    details: dict[str, Any] = json_value(dict)


user_table = table_of(User)
membership_table = table_of(Membership)
api_token_table = table_of(ApiToken)
