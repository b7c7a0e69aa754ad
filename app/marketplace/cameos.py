"""Cameos: create, edit, owners and shares, who may use them, preview image, listing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, or_
from sqlmodel import col, select

from app.db import UnitOfWork, id_of
from app.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.paging import Page, paginate
from app.people import audit
from app.people.actors import Actor
from app.people.models import Organisation, User

from . import catalogue
from .models import Cameo, CameoApprovedBrand, CameoOwner, Consent, Licence
from .schemas import CameoIn, CameoPatch, OwnersIn
from .storage import IMAGE_TYPES, FileStore, sniff_image

LIVE_LICENCE_STATUSES = ("signed", "paid", "active")


def _check_categories(values: list[str]) -> None:
    unknown = catalogue.unknown_categories(values)
    if unknown:
        raise ValidationProblem(errors={"blocked_categories": f"unknown categories: {', '.join(unknown)}"})


def _check_brands(uow: UnitOfWork, org_ids: list[int]) -> None:
    if not org_ids:
        return
    found = set(uow.session.exec(select(Organisation.id).where(col(Organisation.id).in_(org_ids))).all())
    missing = [i for i in org_ids if i not in found]
    if missing:
        raise ValidationProblem(errors={"approved_brand_ids": f"no such organisation: {missing[0]}"})


def owner_ids(uow: UnitOfWork, cameo_id: int) -> set[int]:
    return set(uow.session.exec(select(CameoOwner.user_id).where(CameoOwner.cameo_id == cameo_id)).all())


def owners(uow: UnitOfWork, cameo_id: int) -> list[CameoOwner]:
    return list(
        uow.session.exec(
            select(CameoOwner).where(CameoOwner.cameo_id == cameo_id).order_by(col(CameoOwner.user_id))
        ).all()
    )


def approved_brand_ids(uow: UnitOfWork, cameo_id: int) -> list[int]:
    return list(
        uow.session.exec(
            select(CameoApprovedBrand.organisation_id)
            .where(CameoApprovedBrand.cameo_id == cameo_id)
            .order_by(col(CameoApprovedBrand.organisation_id))
        ).all()
    )


def brand_may_see(uow: UnitOfWork, actor: Actor, cameo: Cameo) -> bool:
    """A brand sees a listed cameo open to it, or one its organisation holds a licence on."""
    if actor.role != "brand" or not actor.org_ids:
        return False
    if cameo.status == "listed":
        if cameo.visibility == "licensed":
            return True
        if cameo.visibility == "approved_brands" and actor.org_ids & set(approved_brand_ids(uow, id_of(cameo))):
            return True
    held = uow.session.exec(
        select(Licence.id).where(Licence.cameo_id == cameo.id, col(Licence.brand_org_id).in_(actor.org_ids))
    ).first()
    return held is not None


def may_read(uow: UnitOfWork, actor: Actor, cameo: Cameo) -> bool:
    return actor.is_staff or actor.user_id in owner_ids(uow, id_of(cameo)) or brand_may_see(uow, actor, cameo)


def get_cameo(uow: UnitOfWork, actor: Actor, cameo_id: int) -> Cameo:
    cameo = uow.session.get(Cameo, cameo_id)
    if cameo is None or not may_read(uow, actor, cameo):
        raise NotFound("No such cameo.")
    return cameo


def get_managed_cameo(uow: UnitOfWork, actor: Actor, cameo_id: int, *, lock: bool = False) -> Cameo:
    """The cameo, if the actor is its creator (who manages it); 404 or 403 otherwise."""
    cameo = get_cameo(uow, actor, cameo_id)
    if cameo.creator_id != actor.user_id:
        raise Forbidden("Only the cameo's creator can change it.")
    if lock:
        uow.session.refresh(cameo, with_for_update=True)
    return cameo


def brand_visible_cameos(actor: Actor):
    """A subquery of the cameo ids a brand may see (the SQL twin of ``brand_may_see``)."""
    approved = select(CameoApprovedBrand.cameo_id).where(col(CameoApprovedBrand.organisation_id).in_(actor.org_ids))
    held = select(Licence.cameo_id).where(col(Licence.brand_org_id).in_(actor.org_ids))
    return select(Cameo.id).where(
        or_(
            (col(Cameo.status) == "listed") & (col(Cameo.visibility) == "licensed"),
            (col(Cameo.status) == "listed")
            & (col(Cameo.visibility) == "approved_brands")
            & col(Cameo.id).in_(approved),
            col(Cameo.id).in_(held),
        )
    )


def owned_cameos(actor: Actor):
    return select(CameoOwner.cameo_id).where(CameoOwner.user_id == actor.user_id)


def list_cameos(uow: UnitOfWork, actor: Actor, *, cursor: str | None, limit: int) -> Page:
    query = select(Cameo)
    if actor.role == "creator":
        query = query.where(col(Cameo.id).in_(owned_cameos(actor)))
    elif actor.role == "brand":
        query = query.where(col(Cameo.id).in_(brand_visible_cameos(actor)))
    elif not actor.is_staff:
        query = query.where(false())
    return paginate(uow, query, Cameo.id, cursor=cursor, limit=limit)


def create_cameo(uow: UnitOfWork, actor: Actor, now: datetime, data: CameoIn) -> Cameo:
    actor.require_role("creator")
    _check_categories(data.blocked_categories)
    _check_brands(uow, data.approved_brand_ids)
    cameo = Cameo(
        creator_id=actor.user_id,
        kind=data.kind,
        title=data.title,
        description=data.description,
        visibility=data.visibility,
        status="draft",
        blocked_categories=list(data.blocked_categories),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(cameo)
    uow.session.flush()
    uow.session.add(CameoOwner(cameo_id=id_of(cameo), user_id=actor.user_id, share_bps=10_000))
    for org_id in data.approved_brand_ids:
        uow.session.add(CameoApprovedBrand(cameo_id=id_of(cameo), organisation_id=org_id))
    audit.record(uow, actor, now, "cameo.create", "cameo", id_of(cameo), to_status="draft")
    uow.session.flush()
    return cameo


def update_cameo(uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int, data: CameoPatch) -> Cameo:
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "blocked_categories" in changes:
        _check_categories(changes["blocked_categories"])
    if "approved_brand_ids" in changes:
        brand_ids = changes.pop("approved_brand_ids")
        _check_brands(uow, brand_ids)
        for row in uow.session.exec(select(CameoApprovedBrand).where(CameoApprovedBrand.cameo_id == cameo.id)):
            uow.session.delete(row)
        uow.session.flush()
        for org_id in brand_ids:
            uow.session.add(CameoApprovedBrand(cameo_id=id_of(cameo), organisation_id=org_id))
        changes["approved_brand_ids"] = brand_ids
    for name, value in changes.items():
        if name != "approved_brand_ids":
            setattr(cameo, name, value)
    cameo.updated_at = now
    audit.record(uow, actor, now, "cameo.update", "cameo", id_of(cameo), fields=sorted(changes))
    uow.session.flush()
    return cameo


def set_owners(uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int, data: OwnersIn) -> list[CameoOwner]:
    """Replace the co-owners.  The creator must stay an owner; shares sum to 10000 bp.
    Existing licences keep the owners snapshot taken when they were signed."""
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    ids = [o.user_id for o in data.owners]
    if actor.user_id not in ids:
        raise ValidationProblem(errors={"owners": "the creator must remain one of the owners"})
    creators = set(
        uow.session.exec(select(User.id).where(col(User.id).in_(ids), User.role == "creator", User.is_active)).all()
    )
    for index, owner_id in enumerate(ids):
        if owner_id not in creators:
            raise ValidationProblem(errors={f"owners.{index}.user_id": "not an active creator"})
    for row in owners(uow, id_of(cameo)):
        uow.session.delete(row)
    uow.session.flush()
    for owner in data.owners:
        uow.session.add(CameoOwner(cameo_id=id_of(cameo), user_id=owner.user_id, share_bps=owner.share_bps))
    cameo.updated_at = now
    audit.record(uow, actor, now, "cameo.owners", "cameo", id_of(cameo), owners=[o.model_dump() for o in data.owners])
    uow.session.flush()
    return owners(uow, id_of(cameo))


def upload_preview(
    uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int, data: bytes, *, store: FileStore, max_bytes: int
) -> Cameo:
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    stored = store.store_checked(
        "previews",
        data,
        field="file",
        max_bytes=max_bytes,
        sniff=sniff_image,
        types=IMAGE_TYPES,
        what="PNG, JPEG or WebP image",
    )
    cameo.preview_path, cameo.preview_sha256 = stored.path, stored.sha256
    cameo.preview_content_type = stored.content_type
    cameo.updated_at = now
    audit.record(uow, actor, now, "cameo.preview", "cameo", id_of(cameo), sha256=stored.sha256, size=stored.size)
    return cameo


def active_consent(uow: UnitOfWork, cameo_id: int) -> Consent | None:
    return uow.session.exec(
        select(Consent)
        .where(Consent.cameo_id == cameo_id, col(Consent.withdrawn_at).is_(None))
        .order_by(col(Consent.id).desc())
    ).first()


def _set_status(uow: UnitOfWork, actor: Actor, now: datetime, cameo: Cameo, to: str, action: str, **details) -> Cameo:
    before = cameo.status
    cameo.status = to
    cameo.updated_at = now
    audit.record(uow, actor, now, action, "cameo", id_of(cameo), from_status=before, to_status=to, **details)
    return cameo


def list_cameo(uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int) -> Cameo:
    """Put the cameo on the market.  No consent, no listing."""
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    if cameo.status == "listed":
        raise Conflict("The cameo is already listed.")
    if active_consent(uow, id_of(cameo)) is None:
        raise Conflict("Record consent before listing the cameo.", errors={"consent": "missing"})
    return _set_status(uow, actor, now, cameo, "listed", "cameo.list")


def pause_cameo(uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int) -> Cameo:
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    if cameo.status != "listed":
        raise Conflict(f"Only a listed cameo can be paused; this one is {cameo.status}.")
    return _set_status(uow, actor, now, cameo, "paused", "cameo.pause")
