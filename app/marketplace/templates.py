"""Contract templates: versioned, immutable once published.  A change is a new
version (same slug, version + 1); rows are never updated (and the database refuses)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from app.db import UnitOfWork, id_of
from app.errors import NotFound, ValidationProblem
from app.paging import Page, paginate
from app.people import audit
from app.people.actors import SYSTEM, Actor

from . import catalogue, contracts
from .models import ContractTemplate
from .schemas import TemplateIn


def list_templates(uow: UnitOfWork, actor: Actor, *, cursor: str | None, limit: int) -> Page:
    query = select(ContractTemplate).where(col(ContractTemplate.published_at).is_not(None))
    return paginate(uow, query, ContractTemplate.id, cursor=cursor, limit=limit)


def get_template(uow: UnitOfWork, actor: Actor, template_id: int) -> ContractTemplate:
    template = uow.session.get(ContractTemplate, template_id)
    if template is None or template.published_at is None:
        raise NotFound("No such contract template.")
    return template


def _publish(
    uow: UnitOfWork, actor: Actor, now: datetime, *, slug: str, title: str, summary: str, body: str, defaults: dict
) -> ContractTemplate:
    error = contracts.check_template(body)
    if error:
        raise ValidationProblem(errors={"body": f"does not render: {error}"})
    latest = uow.session.exec(select(func.max(ContractTemplate.version)).where(ContractTemplate.slug == slug)).one()
    template = ContractTemplate(
        slug=slug,
        version=(latest or 0) + 1,
        title=title,
        summary=summary,
        body=body,
        body_sha256=contracts.sha256_text(body),
        defaults=defaults,
        published_at=now,
        created_by=actor.user_id or None,
    )
    uow.session.add(template)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        now,
        "template.publish",
        "contract_template",
        id_of(template),
        slug=slug,
        version=template.version,
        body_sha256=template.body_sha256,
    )
    return template


def publish_version(uow: UnitOfWork, actor: Actor, now: datetime, data: TemplateIn) -> ContractTemplate:
    """Publish a new version of ``data.slug`` (admins only)."""
    actor.require_role("admin")
    return _publish(
        uow, actor, now, slug=data.slug, title=data.title, summary=data.summary, body=data.body, defaults={}
    )


def seed_templates(uow: UnitOfWork, now: datetime) -> list[ContractTemplate]:
    """Publish each template of seed_data/templates/ unless that exact text is already published."""
    published = []
    for source in catalogue.template_sources():
        digest = contracts.sha256_text(source["body"])
        existing = uow.session.exec(
            select(ContractTemplate).where(
                ContractTemplate.slug == source["slug"], ContractTemplate.body_sha256 == digest
            )
        ).first()
        published.append(
            existing
            or _publish(
                uow,
                SYSTEM,
                now,
                slug=source["slug"],
                title=source["title"],
                summary=source.get("summary", ""),
                body=source["body"],
                defaults=source.get("defaults", {}),
            )
        )
    return published
