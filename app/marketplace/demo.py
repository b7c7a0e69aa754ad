"""``cameo seed``'s demo marketplace (seed_data/demo.json), idempotent: people,
organisations, cameos with consent, offers and a few licences at various stages.
Everything goes through the services, so the demo data obeys the same rules."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import col, select

from app.db import UnitOfWork, get_existing, id_of
from app.people import accounts
from app.people.actors import Actor, actor_for
from app.people.models import Membership, Organisation, User

from . import cameos, consent, licences, offers, templates
from .catalogue import SEED_DIR
from .models import Cameo, Licence, Offer
from .schemas import CameoIn, ConsentIn, LicenceRequestIn, OfferIn, OwnersIn
from .storage import FileStore

DEMO_RECORDING = b"\x1a\x45\xdf\xa3" + b"demo liveness recording (placeholder WebM)" + bytes(64)
DEMO_PREVIEW = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)
DEMO_IP, DEMO_AGENT = "127.0.0.1", "cameo seed"


def _actor(uow: UnitOfWork, email: str) -> Actor:
    user = uow.session.exec(select(User).where(User.email == email)).one()
    return actor_for(uow, user, ip=DEMO_IP, user_agent=DEMO_AGENT)


def _people(uow: UnitOfWork, now: datetime, demo: dict, password_method: str) -> None:
    for person in demo["people"]:
        user = uow.session.exec(select(User).where(User.email == person["email"])).first()
        if user is None:
            user = accounts.create_user(
                uow,
                now,
                email=person["email"],
                password=demo["password"],
                display_name=person["name"],
                role=person["role"],
                password_method=password_method,
            )
        if "organisation" in person:
            org = uow.session.exec(select(Organisation).where(Organisation.name == person["organisation"])).first()
            org = org or accounts.create_organisation(uow, now, name=person["organisation"])
            if id_of(user) not in {m.user_id for m in _members(uow, id_of(org))}:
                accounts.add_member(uow, now, user=user, organisation=org)


def _members(uow: UnitOfWork, org_id: int):
    return uow.session.exec(select(Membership).where(Membership.organisation_id == org_id)).all()


def _cameo(uow: UnitOfWork, now: datetime, spec: dict, store: FileStore, commission_bps: int) -> None:
    creator = _actor(uow, spec["creator"])
    if uow.session.exec(select(Cameo).where(Cameo.creator_id == creator.user_id, Cameo.title == spec["title"])).first():
        return
    brand_ids = [
        uow.session.exec(select(Organisation.id).where(Organisation.name == name)).one()
        for name in spec.get("approved_brands", [])
    ]
    cameo = cameos.create_cameo(
        uow,
        creator,
        now,
        CameoIn(
            kind=spec["kind"],
            title=spec["title"],
            description=spec["description"],
            visibility=spec["visibility"],
            blocked_categories=spec["blocked_categories"],
            approved_brand_ids=brand_ids,
        ),
    )
    if spec["co_owners"]:
        co = [{"user_id": _actor(uow, o["email"]).user_id, "share_bps": o["share_bps"]} for o in spec["co_owners"]]
        mine = 10_000 - sum(o["share_bps"] for o in co)
        cameos.set_owners(
            uow, creator, now, id_of(cameo), OwnersIn(owners=[{"user_id": creator.user_id, "share_bps": mine}, *co])
        )
    cameos.upload_preview(uow, creator, now, id_of(cameo), DEMO_PREVIEW, store=store, max_bytes=len(DEMO_PREVIEW))
    _, digest = consent.statement(uow, creator, id_of(cameo))
    consent.record_consent(
        uow,
        creator,
        now,
        id_of(cameo),
        ConsentIn(accept_statement=True, statement_sha256=digest),
        DEMO_RECORDING,
        store=store,
        max_bytes=len(DEMO_RECORDING),
    )
    cameos.list_cameo(uow, creator, now, id_of(cameo))
    by_slug = {t.slug: t for t in templates.seed_templates(uow, now)}
    for o in spec["offers"]:
        money = {"currency": o["currency"]}
        offers.create_offer(
            uow,
            creator,
            now,
            id_of(cameo),
            OfferIn(
                template_id=by_slug[o["template"]].id,
                media=o["media"],
                territories=o["territories"],
                term_days=o["term_days"],
                exclusivity=o["exclusivity"],
                usage_cap=o["usage_cap"],
                upfront_fee={"amount_minor": o["upfront_fee_minor"], **money},
                per_use_royalty={"amount_minor": o["per_use_royalty_minor"], **money},
                holdback_days=o["holdback_days"],
                revocation_notice_days=o["revocation_notice_days"],
                requires_approval=o["requires_approval"],
            ),
            commission_bps=commission_bps,
        )


def _licence(uow: UnitOfWork, now: datetime, spec: dict) -> None:
    cameo = uow.session.exec(select(Cameo).where(Cameo.title == spec["cameo"])).one()
    offer = uow.session.exec(select(Offer).where(Offer.cameo_id == cameo.id).order_by(col(Offer.id))).all()[
        spec["offer"]
    ]
    brand = _actor(uow, spec["brand"])
    if uow.session.exec(
        select(Licence).where(Licence.offer_id == offer.id, col(Licence.brand_org_id).in_(brand.org_ids))
    ).first():
        return
    licence = licences.request_licence(uow, brand, now, offer.id, LicenceRequestIn(intended_use=spec["intended_use"]))
    if not spec["sign"]:
        return
    creator = actor_for(uow, get_existing(uow.session, User, cameo.creator_id), ip=DEMO_IP, user_agent=DEMO_AGENT)
    if licence.status == "requested":
        licences.approve(uow, creator, now, id_of(licence))
    licences.sign(uow, brand, now, id_of(licence), licence.contract_sha256 or "")
    licences.sign(uow, creator, now, id_of(licence), licence.contract_sha256 or "")
    if spec.get("pay") and licence.status == "signed":
        licences.mark_paid(uow, id_of(licence), now, spec["pay"])


def seed_demo(
    uow: UnitOfWork,
    now: datetime,
    *,
    store: FileStore,
    commission_bps: int,
    password_method: str = accounts.DEFAULT_PASSWORD_METHOD,
) -> list[str]:
    demo = json.loads((SEED_DIR / "demo.json").read_text())
    published = templates.seed_templates(uow, now)
    _people(uow, now, demo, password_method)
    for spec in demo["cameos"]:
        _cameo(uow, now, spec, store, commission_bps)
    for spec in demo["licences"]:
        _licence(uow, now, spec)
    lines = [
        f"contract templates: {', '.join(f'{t.slug} v{t.version}' for t in published)}",
        f"demo logins (password {demo['password']!r}):",
    ]
    lines += [f"  {p['role']:<10} {p['email']}" for p in demo["people"]]
    return lines
