"""The audit log: every transition, who did it, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from app.db import UnitOfWork
from app.paging import Page, paginate

from .actors import Actor
from .models import AuditEvent


def record(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    action: str,
    object_type: str,
    object_id: int,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        actor_id=actor.user_id or None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        from_status=from_status,
        to_status=to_status,
        ip=actor.ip,
        user_agent=actor.user_agent,
        details=details,
    )
    uow.session.add(event)
    return event


def events_for(uow: UnitOfWork, object_type: str, object_id: int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(col(AuditEvent.id))
    )
    return list(uow.session.exec(query).all())


def list_events(uow: UnitOfWork, actor: Actor, *, cursor: str | None, limit: int) -> Page:
    """The whole log, for admins and accountants."""
    actor.require_role("admin", "accountant")
    return paginate(uow, select(AuditEvent), AuditEvent.id, cursor=cursor, limit=limit)
