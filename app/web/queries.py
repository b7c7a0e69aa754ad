"""Read-side helpers for the pages that the marketplace services do not offer: search
with filters and numbered pages, dashboards and the staff overview.  Every query is
scoped exactly like the services' own reads (``cameos.brand_visible_cameos``,
``cameos.owned_cameos``, staff see everything)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, exists, false, func, or_
from sqlmodel import col, select

from app.db import UnitOfWork, key_column
from app.errors import NotFound
from app.marketplace import cameos
from app.marketplace.models import Cameo, Consent, Licence, Offer
from app.people.actors import Actor
from app.people.models import AuditEvent, Organisation, User

PER_PAGE = 12


@dataclass
class Filters:
    text: str | None = None
    kind: str | None = None
    category: str | None = None  # the use the brand has in mind: the cameo must not block it
    currency: str | None = None
    min_minor: int | None = None
    max_minor: int | None = None
    territory: str | None = None

    def offer_filtered(self) -> bool:
        return any(v is not None for v in (self.currency, self.min_minor, self.max_minor, self.territory))


@dataclass
class SearchPage:
    cameos: list[Cameo]
    offers: dict[int, list[Offer]]
    page: int
    pages: int
    total: int
    names: dict[int, str] = field(default_factory=dict)


def _json_has(column, value: str):
    """A JSON list column holds ``value`` (a checked code: no quotes, no LIKE wildcards).
    Portable: SQLite and PostgreSQL both keep the JSON text as written."""
    return cast(column, String).like(f'%"{value}"%')


def _visible(actor: Actor):
    query = select(Cameo)
    if actor.role == "creator":
        return query.where(col(Cameo.id).in_(cameos.owned_cameos(actor)))
    if actor.role == "brand":
        return query.where(col(Cameo.id).in_(cameos.brand_visible_cameos(actor)))
    return query if actor.is_staff else query.where(false())


def _open_offers(actor: Actor):
    query = select(Offer).where(Offer.status == "open")
    return (
        query
        if actor.role != "brand"
        else query.where(col(Offer.cameo_id).in_(select(Cameo.id).where(Cameo.status == "listed")))
    )


def search(uow: UnitOfWork, actor: Actor, filters: Filters, page: int) -> SearchPage:
    query = _visible(actor)
    if filters.text:
        query = query.where(
            or_(
                col(Cameo.title).icontains(filters.text, autoescape=True),
                col(Cameo.description).icontains(filters.text, autoescape=True),
            )
        )
    if filters.kind:
        query = query.where(Cameo.kind == filters.kind)
    if filters.category:
        query = query.where(~_json_has(Cameo.blocked_categories, filters.category))
    if filters.offer_filtered():
        matching = _open_offers(actor).where(Offer.cameo_id == Cameo.id)
        if filters.currency:
            matching = matching.where(Offer.currency == filters.currency)
        if filters.min_minor is not None:
            matching = matching.where(Offer.upfront_fee_minor >= filters.min_minor)
        if filters.max_minor is not None:
            matching = matching.where(Offer.upfront_fee_minor <= filters.max_minor)
        if filters.territory:
            matching = matching.where(
                or_(_json_has(Offer.territories, filters.territory), _json_has(Offer.territories, "WORLDWIDE"))
            )
        query = query.where(exists(matching))
    total = uow.session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = list(
        uow.session.exec(query.order_by(col(Cameo.id).desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    )
    found = SearchPage(
        cameos=rows, offers=offers_for(uow, actor, [c.id for c in rows]), page=page, pages=pages, total=total
    )
    found.names = display_names(uow, {c.creator_id for c in rows})
    return found


def offers_for(uow: UnitOfWork, actor: Actor, cameo_ids: list[int]) -> dict[int, list[Offer]]:
    """The open offers of these (already visible) cameos, cheapest first."""
    grouped: dict[int, list[Offer]] = {cid: [] for cid in cameo_ids}
    if cameo_ids:
        query = (
            _open_offers(actor)
            .where(col(Offer.cameo_id).in_(cameo_ids))
            .order_by(col(Offer.upfront_fee_minor), col(Offer.id))
        )
        for offer in uow.session.exec(query).all():
            grouped[offer.cameo_id].append(offer)
    return grouped


def display_names(uow: UnitOfWork, user_ids) -> dict[int, str]:
    ids = [i for i in set(user_ids) if i]
    if not ids:
        return {}
    return dict(
        uow.session.exec(select(key_column(User.id), col(User.display_name)).where(col(User.id).in_(ids))).all()
    )


def organisation_names(uow: UnitOfWork, org_ids) -> dict[int, str]:
    ids = list(set(org_ids))
    if not ids:
        return {}
    return dict(
        uow.session.exec(
            select(key_column(Organisation.id), col(Organisation.name)).where(col(Organisation.id).in_(ids))
        ).all()
    )


def organisations(uow: UnitOfWork) -> list[Organisation]:
    return list(uow.session.exec(select(Organisation).order_by(col(Organisation.name))).all())


def creator_ids_by_email(uow: UnitOfWork, emails: list[str]) -> dict[str, int]:
    """Active creators by (normalised) e-mail, for the co-owners form."""
    wanted = [e.strip().lower() for e in emails]
    rows = uow.session.exec(
        select(col(User.email), key_column(User.id)).where(
            col(User.email).in_(wanted), User.role == "creator", User.is_active
        )
    ).all()
    return dict(rows)


def cameo_titles(uow: UnitOfWork, cameo_ids) -> dict[int, str]:
    ids = list(set(cameo_ids))
    if not ids:
        return {}
    return dict(uow.session.exec(select(key_column(Cameo.id), col(Cameo.title)).where(col(Cameo.id).in_(ids))).all())


@dataclass
class Dashboard:
    cameos: list[Cameo] = field(default_factory=list)
    consented: set[int] = field(default_factory=set)
    requests: list[Licence] = field(default_factory=list)
    to_sign: list[Licence] = field(default_factory=list)
    licences: list[Licence] = field(default_factory=list)
    titles: dict[int, str] = field(default_factory=dict)
    brands: dict[int, str] = field(default_factory=dict)


def _licences(uow: UnitOfWork, query) -> list[Licence]:
    return list(uow.session.exec(query.order_by(col(Licence.id).desc()).limit(200)).all())


def _party_signature(actor: Actor, licence: Licence) -> str:
    return "brand_signature" if actor.role == "brand" else "creator_signature"


def dashboard(uow: UnitOfWork, actor: Actor) -> Dashboard:
    """A creator's cameos and the licences on them, or a brand's licences and requests."""
    board = Dashboard()
    if actor.role == "creator":
        board.cameos = list(
            uow.session.exec(
                select(Cameo).where(col(Cameo.id).in_(cameos.owned_cameos(actor))).order_by(col(Cameo.id).desc())
            ).all()
        )
        ids = [c.id for c in board.cameos]
        if ids:
            board.consented = set(
                uow.session.exec(
                    select(Consent.cameo_id).where(col(Consent.cameo_id).in_(ids), col(Consent.withdrawn_at).is_(None))
                ).all()
            )
        everything = _licences(uow, select(Licence).where(col(Licence.cameo_id).in_(cameos.owned_cameos(actor))))
    elif actor.role == "brand":
        everything = _licences(uow, select(Licence).where(col(Licence.brand_org_id).in_(actor.org_ids)))
    else:
        raise NotFound("No dashboard for this role.")
    board.requests = [lic for lic in everything if lic.status == "requested"]
    board.to_sign = [
        lic for lic in everything if lic.status == "approved" and getattr(lic, _party_signature(actor, lic)) is None
    ]
    board.licences = [lic for lic in everything if lic.status != "requested"]
    board.titles = cameo_titles(uow, [lic.cameo_id for lic in everything] + [c.id for c in board.cameos])
    board.brands = organisation_names(uow, [lic.brand_org_id for lic in everything])
    return board


@dataclass
class Overview:
    users_by_role: dict[str, int]
    cameos_by_status: dict[str, int]
    licences_by_status: dict[str, int]
    upfront_by_currency: list[tuple[str, int, int]]  # currency, licences, upfront fees (signed or later)
    recent: list[AuditEvent]
    actors: dict[int, str]


def overview(uow: UnitOfWork, actor: Actor) -> Overview:
    """The read-only staff overview (admins and accountants)."""
    actor.require_role("admin", "accountant")

    def counted(column) -> dict[str, Any]:
        return dict(uow.session.exec(select(column, func.count()).group_by(column).order_by(column)).all())

    fees = uow.session.exec(
        select(Licence.currency, func.count(), func.sum(Licence.upfront_fee_minor))
        .where(col(Licence.status).in_(("signed", "paid", "active", "expired")))
        .group_by(col(Licence.currency))
        .order_by(col(Licence.currency))
    ).all()
    recent = list(uow.session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(25)).all())
    return Overview(
        users_by_role=counted(User.role),
        cameos_by_status=counted(Cameo.status),
        licences_by_status=counted(Licence.status),
        upfront_by_currency=[(c, n, int(total or 0)) for c, n, total in fees],
        recent=recent,
        actors=display_names(uow, [e.actor_id for e in recent]),
    )
