"""Offers: a creator offers a cameo under one template version with its parameters
and prices.  The platform commission (``COMMISSION_BPS``) is fixed on the offer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false
from sqlmodel import col, select

from app.db import UnitOfWork, get_existing, id_of
from app.errors import Conflict, Forbidden, NotFound
from app.paging import Page, paginate
from app.people import audit
from app.people.actors import Actor

from .cameos import (
    brand_may_see,
    brand_visible_cameos,
    get_managed_cameo,
    may_read,
    owned_cameos,
    owner_ids,
)
from .models import Cameo, Offer
from .schemas import OfferIn
from .templates import get_template


def create_offer(
    uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int, data: OfferIn, *, commission_bps: int
) -> Offer:
    cameo = get_managed_cameo(uow, actor, cameo_id)
    template = get_template(uow, actor, data.template_id)
    offer = Offer(
        cameo_id=id_of(cameo),
        template_id=id_of(template),
        created_by=actor.user_id,
        requires_approval=data.requires_approval,
        status="open",
        created_at=now,
        media=list(data.media),
        territories=list(data.territories),
        term_days=data.term_days,
        exclusivity=data.exclusivity,
        usage_cap=data.usage_cap,
        upfront_fee_minor=data.upfront_fee.amount_minor,
        advance_minor=data.advance.amount_minor if data.advance is not None else 0,
        per_use_royalty_minor=data.per_use_royalty.amount_minor,
        currency=data.upfront_fee.currency,
        holdback_days=data.holdback_days,
        revocation_notice_days=data.revocation_notice_days,
        commission_bps=commission_bps,
    )
    uow.session.add(offer)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        now,
        "offer.create",
        "offer",
        id_of(offer),
        to_status="open",
        cameo_id=id_of(cameo),
        template_id=id_of(template),
    )
    return offer


def _may_read(uow: UnitOfWork, actor: Actor, offer: Offer, cameo: Cameo) -> bool:
    if actor.is_staff or actor.user_id in owner_ids(uow, id_of(cameo)):
        return True
    return offer.status == "open" and brand_may_see(uow, actor, cameo) and cameo.status == "listed"


def get_offer(uow: UnitOfWork, actor: Actor, offer_id: int) -> Offer:
    offer = uow.session.get(Offer, offer_id)
    if offer is None or not _may_read(uow, actor, offer, get_existing(uow.session, Cameo, offer.cameo_id)):
        raise NotFound("No such offer.")
    return offer


def list_offers(uow: UnitOfWork, actor: Actor, *, cursor: str | None, limit: int, cameo_id: int | None = None) -> Page:
    query = select(Offer)
    if cameo_id is not None:
        cameo = uow.session.get(Cameo, cameo_id)
        if cameo is None or not may_read(uow, actor, cameo):
            raise NotFound("No such cameo.")
        query = query.where(Offer.cameo_id == cameo_id)
    if actor.role == "creator":
        query = query.where(col(Offer.cameo_id).in_(owned_cameos(actor)))
    elif actor.role == "brand":
        query = query.where(
            Offer.status == "open",
            col(Offer.cameo_id).in_(brand_visible_cameos(actor)),
            col(Offer.cameo_id).in_(select(Cameo.id).where(Cameo.status == "listed")),
        )
    elif not actor.is_staff:
        query = query.where(false())
    return paginate(uow, query, Offer.id, cursor=cursor, limit=limit)


def withdraw_offer(uow: UnitOfWork, actor: Actor, now: datetime, offer_id: int) -> Offer:
    offer = get_offer(uow, actor, offer_id)
    cameo = get_existing(uow.session, Cameo, offer.cameo_id)
    if cameo.creator_id != actor.user_id:
        raise Forbidden("Only the cameo's creator can withdraw its offers.")
    if offer.status != "open":
        raise Conflict("The offer is already withdrawn.")
    offer.status = "withdrawn"
    audit.record(uow, actor, now, "offer.withdraw", "offer", id_of(offer), from_status="open", to_status="withdrawn")
    return offer
