"""Licences and their lifecycle.

    requested ─approve→ approved ─sign (both parties)→ signed ─mark_paid→ paid → active
        │                  │                              └─(upfront fee 0)──────→ active
        └─decline→ declined ←┘                           active ─expire_due→ expired
    signed | paid | active ─revoke (or consent withdrawn)→ revoked

``expire_due`` is run by the scheduler (``app.marketplace.expiry``: the ``licences-expire``
job), which also books what the end earns and tells the licence's parties.

An illegal transition raises ``Conflict`` (409) and changes nothing; every transition
is written to the audit log with the actor's IP and user agent.  The contract is
rendered from the offer's exact template version when the licence is approved; each
party signs by presenting the sha256 of the text they read.

Revocation applies the contract's termination terms: with a notice of N > 0 days an
active licence winds down (``ends_at`` = now + N, status stays ``active``) and
``expire_due`` revokes it then; with no notice it is revoked at once.  Licences not
yet active are revoked (signed, paid) or declined (requested, approved) at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import false
from sqlmodel import col, select

from app.db import UnitOfWork, get_existing, id_of
from app.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.paging import Page, paginate
from app.people import audit
from app.people.actors import SYSTEM, Actor
from app.people.models import Organisation, User

from . import catalogue, contracts
from .cameos import active_consent, brand_may_see, owned_cameos, owner_ids, owners
from .models import Cameo, ContractTemplate, Licence, Offer
from .schemas import LicenceRequestIn

TRANSITIONS: dict[str, set[str]] = {
    "requested": {"approved", "declined"},
    "approved": {"signed", "declined"},
    "signed": {"paid", "active", "revoked"},
    "paid": {"active", "revoked"},
    "active": {"expired", "revoked"},
}
LIVE = ("signed", "paid", "active")


def _transition(
    uow: UnitOfWork, actor: Actor, now: datetime, licence: Licence, to: str, action: str, **details
) -> Licence:
    before = licence.status
    if to not in TRANSITIONS.get(before, set()):
        raise Conflict(f"A {before} licence cannot become {to}.", status_from=before, status_to=to)
    licence.status = to
    licence.updated_at = now
    audit.record(uow, actor, now, action, "licence", id_of(licence), from_status=before, to_status=to, **details)
    return licence


# --- reading --------------------------------------------------------------------------


def _may_read(uow: UnitOfWork, actor: Actor, licence: Licence) -> bool:
    return actor.is_staff or licence.brand_org_id in actor.org_ids or actor.user_id in owner_ids(uow, licence.cameo_id)


def get_licence(uow: UnitOfWork, actor: Actor, licence_id: int, *, lock: bool = False) -> Licence:
    licence = uow.session.get(Licence, licence_id, with_for_update=lock or None)
    if licence is None or not _may_read(uow, actor, licence):
        raise NotFound("No such licence.")
    return licence


def list_licences(uow: UnitOfWork, actor: Actor, *, cursor: str | None, limit: int, status: str | None = None) -> Page:
    query = select(Licence)
    if actor.role == "creator":
        query = query.where(col(Licence.cameo_id).in_(owned_cameos(actor)))
    elif actor.role == "brand":
        query = query.where(col(Licence.brand_org_id).in_(actor.org_ids))
    elif not actor.is_staff:
        query = query.where(false())
    if status:
        query = query.where(Licence.status == status)
    return paginate(uow, query, Licence.id, cursor=cursor, limit=limit)


def history(uow: UnitOfWork, actor: Actor, licence_id: int):
    licence = get_licence(uow, actor, licence_id)
    return audit.events_for(uow, "licence", id_of(licence))


def signed_contract(uow: UnitOfWork, actor: Actor, licence_id: int) -> Licence:
    """The licence, if its contract has been signed by both parties."""
    licence = get_licence(uow, actor, licence_id)
    if not (licence.creator_signature and licence.brand_signature):
        raise Conflict("The contract has not been signed by both parties yet.")
    return licence


# --- the lifecycle ----------------------------------------------------------------------


def _brand_org(actor: Actor, requested: int | None) -> int:
    if requested is not None:
        if requested not in actor.org_ids:
            raise ValidationProblem(errors={"organisation_id": "you are not a member of this organisation"})
        return requested
    if len(actor.org_ids) != 1:
        raise ValidationProblem(
            errors={"organisation_id": f"required: you belong to {len(actor.org_ids)} organisations"}
        )
    return next(iter(actor.org_ids))


def _overlapping_exclusive(uow: UnitOfWork, licence: Licence) -> Licence | None:
    others = uow.session.exec(
        select(Licence).where(
            Licence.cameo_id == licence.cameo_id,
            Licence.id != licence.id,
            col(Licence.status).in_(LIVE),
            Licence.term_start < licence.ends_at,
            Licence.ends_at > licence.term_start,
        )
    ).all()
    for other in others:
        if other.exclusivity or licence.exclusivity:
            return other
    return None


def _check_exclusive(uow: UnitOfWork, licence: Licence) -> None:
    clash = _overlapping_exclusive(uow, licence)
    if clash is not None:
        raise Conflict(f"Licence #{clash.id} overlaps this one's term and one of them is exclusive.")


def _within_offer(offer: Offer, data: LicenceRequestIn) -> dict[str, list[str]]:
    """The licence's media and territories: the offer's, or the part of them the brand asked for."""
    chosen = {}
    for name in ("media", "territories"):
        offered, asked = list(getattr(offer, name)), getattr(data, name)
        outside = [value for value in asked or [] if value not in offered]
        if outside:
            raise ValidationProblem(errors={name: f"not part of the offer: {', '.join(outside)}"})
        chosen[name] = [value for value in offered if value in asked] if asked else offered
    return chosen


def request_licence(uow: UnitOfWork, actor: Actor, now: datetime, offer_id: int, data: LicenceRequestIn) -> Licence:
    """A brand asks for a licence under an offer, stating its intended use."""
    actor.require_role("brand")
    offer = uow.session.get(Offer, offer_id)
    if offer is None or offer.status != "open":
        raise NotFound("No such offer.")
    cameo = get_existing(uow.session, Cameo, offer.cameo_id)
    if cameo.status != "listed" or not brand_may_see(uow, actor, cameo):
        raise NotFound("No such offer.")
    if cameo.visibility == "only_me":
        raise Forbidden("This cameo is not open to brands.")
    if active_consent(uow, id_of(cameo)) is None:
        raise Conflict("The cameo has no consent on record.")
    unknown = catalogue.unknown_categories(data.categories)
    if unknown:
        raise ValidationProblem(errors={"categories": f"unknown categories: {', '.join(unknown)}"})
    blocked = sorted(set(data.categories) & set(cameo.blocked_categories))
    if blocked:
        raise ValidationProblem(
            "The cameo's owner blocks this kind of use; no licence can override that.",
            errors={"categories": f"blocked for this cameo: {', '.join(blocked)}"},
        )
    org_id = _brand_org(actor, data.organisation_id)
    narrowed = _within_offer(offer, data)
    start = now
    if data.starts_on is not None:
        if data.starts_on < now.date():
            raise ValidationProblem(errors={"starts_on": "must not be in the past"})
        start = max(now, datetime.combine(data.starts_on, time(0), tzinfo=UTC))
    end = start + timedelta(days=offer.term_days)
    licence = Licence(
        offer_id=id_of(offer),
        cameo_id=id_of(cameo),
        template_id=offer.template_id,
        brand_org_id=org_id,
        requested_by=actor.user_id,
        status="requested",
        intended_use=data.intended_use,
        categories=list(data.categories),
        term_start=start,
        term_end=end,
        ends_at=end,
        owners=[],
        created_at=now,
        updated_at=now,
        **{
            name: getattr(offer, name)
            for name in (
                "term_days",
                "exclusivity",
                "usage_cap",
                "upfront_fee_minor",
                "advance_minor",
                "per_use_royalty_minor",
                "currency",
                "holdback_days",
                "revocation_notice_days",
                "commission_bps",
            )
        },
        media=narrowed["media"],
        territories=narrowed["territories"],
    )
    uow.session.add(licence)
    uow.session.flush()
    audit.record(
        uow, actor, now, "licence.request", "licence", id_of(licence), to_status="requested", offer_id=offer.id
    )
    if not offer.requires_approval:
        _approve(uow, actor, now, licence, action="licence.auto_approve")
    return licence


def _approve(uow: UnitOfWork, actor: Actor, now: datetime, licence: Licence, *, action: str) -> Licence:
    _check_exclusive(uow, licence)
    _transition(uow, actor, now, licence, "approved", action)
    _render(uow, licence)
    audit.record(
        uow,
        actor,
        now,
        "licence.contract_rendered",
        "licence",
        id_of(licence),
        contract_sha256=licence.contract_sha256,
        template_id=licence.template_id,
    )
    return licence


def _render(uow: UnitOfWork, licence: Licence) -> None:
    cameo = get_existing(uow.session, Cameo, licence.cameo_id)
    template = get_existing(uow.session, ContractTemplate, licence.template_id)
    shares = owners(uow, id_of(cameo))
    names = [f"{get_existing(uow.session, User, o.user_id).display_name} ({o.share_bps / 100:g} %)" for o in shares]
    values = contracts.context(
        licence,
        cameo_title=cameo.title,
        cameo_kind=cameo.kind,
        creators=names,
        brand_name=get_existing(uow.session, Organisation, licence.brand_org_id).name,
        template_title=template.title,
        template_version=template.version,
    )
    values["blocked_categories"] = ", ".join(cameo.blocked_categories) or "none"
    licence.contract_text, licence.contract_sha256 = contracts.render(template.body, values)
    # The owners named in the contract are the ones who share its proceeds.
    licence.owners = [{"user_id": o.user_id, "share_bps": o.share_bps} for o in shares]


def _managed(uow: UnitOfWork, actor: Actor, licence_id: int) -> tuple[Licence, Cameo]:
    licence = get_licence(uow, actor, licence_id, lock=True)
    cameo = get_existing(uow.session, Cameo, licence.cameo_id)
    if cameo.creator_id != actor.user_id:
        raise Forbidden("Only the cameo's creator can do this.")
    return licence, cameo


def approve(uow: UnitOfWork, actor: Actor, now: datetime, licence_id: int) -> Licence:
    licence, cameo = _managed(uow, actor, licence_id)
    if licence.status == "requested" and active_consent(uow, id_of(cameo)) is None:
        raise Conflict("The cameo has no consent on record.")
    if licence.status != "requested":
        raise Conflict(f"A {licence.status} licence cannot be approved.")
    return _approve(uow, actor, now, licence, action="licence.approve")


def decline(uow: UnitOfWork, actor: Actor, now: datetime, licence_id: int, reason: str = "") -> Licence:
    licence, _ = _managed(uow, actor, licence_id)
    if licence.status == "approved" and (licence.creator_signature or licence.brand_signature):
        raise Conflict("A contract signed by one party cannot be declined; revoke it once signed.")
    licence.end_reason = reason or "declined"
    licence.ended_at = now
    return _transition(uow, actor, now, licence, "declined", "licence.decline", reason=reason)


def sign(uow: UnitOfWork, actor: Actor, now: datetime, licence_id: int, contract_sha256: str) -> Licence:
    """One party signs the rendered contract by presenting the hash of the text it read."""
    licence = get_licence(uow, actor, licence_id, lock=True)
    cameo = get_existing(uow.session, Cameo, licence.cameo_id)
    if actor.user_id == cameo.creator_id:
        party = "creator_signature"
    elif actor.role == "brand" and licence.brand_org_id in actor.org_ids:
        party = "brand_signature"
    else:
        raise Forbidden("Only the cameo's creator and the licensee brand sign the contract.")
    if licence.status != "approved":
        raise Conflict(f"A {licence.status} licence cannot be signed.")
    if getattr(licence, party) is not None:
        raise Conflict("You have already signed this contract.")
    if contract_sha256 != licence.contract_sha256:
        raise Conflict(
            "The contract you read is not the current text; fetch it again.",
            errors={"contract_sha256": "does not match the rendered contract"},
        )
    if active_consent(uow, id_of(cameo)) is None:
        raise Conflict("The cameo has no consent on record.")
    signature = {
        "user_id": actor.user_id,
        "signed_at": now.isoformat(),
        "ip": actor.ip,
        "user_agent": actor.user_agent,
        "sha256": contract_sha256,
    }
    setattr(licence, party, signature)
    licence.updated_at = now
    audit.record(
        uow, actor, now, "licence.sign", "licence", id_of(licence), party=party.split("_")[0], sha256=contract_sha256
    )
    if licence.creator_signature and licence.brand_signature:
        _check_exclusive(uow, licence)
        _transition(uow, actor, now, licence, "signed", "licence.signed")
        if licence.amount_due_minor == 0:
            _activate(uow, actor, now, licence)
    return licence


def _activate(uow: UnitOfWork, actor: Actor, now: datetime, licence: Licence) -> None:
    licence.activated_at = now
    _transition(uow, actor, now, licence, "active", "licence.activate")


def mark_paid(uow: UnitOfWork, licence_id: int, now: datetime, payment_ref: str, *, actor: Actor = SYSTEM) -> Licence:
    """The upfront fee has been received (called by the payments side): signed → paid →
    active.  Repeating the call with the same ``payment_ref`` changes nothing."""
    licence = uow.session.get(Licence, licence_id, with_for_update=True)
    if licence is None:
        raise NotFound("No such licence.")
    if licence.payment_ref is not None:
        if licence.payment_ref == payment_ref:
            return licence
        raise Conflict("The licence was already paid with another payment.")
    if licence.status != "signed":
        raise Conflict(f"A {licence.status} licence cannot be paid.")
    licence.payment_ref, licence.paid_at = payment_ref, now
    _transition(uow, actor, now, licence, "paid", "licence.paid", payment_ref=payment_ref)
    _activate(uow, actor, now, licence)
    return licence


def _terminate(uow: UnitOfWork, actor: Actor, now: datetime, licence: Licence, reason: str) -> bool:
    """Apply the contract's termination terms; False if there is nothing to end."""
    if licence.status in ("requested", "approved"):
        licence.end_reason, licence.ended_at = reason, now
        _transition(uow, actor, now, licence, "declined", "licence.decline", reason=reason)
    elif licence.status in ("signed", "paid") or (licence.status == "active" and licence.revocation_notice_days == 0):
        licence.end_reason, licence.ended_at, licence.ends_at = reason, now, min(licence.ends_at, now)
        licence.revocation_requested_at = licence.revocation_requested_at or now
        _transition(uow, actor, now, licence, "revoked", "licence.revoke", reason=reason)
    elif licence.status == "active" and licence.revocation_requested_at is None:
        licence.revocation_requested_at = now
        licence.end_reason = reason
        licence.ends_at = min(licence.ends_at, now + timedelta(days=licence.revocation_notice_days))
        licence.updated_at = now
        audit.record(
            uow,
            actor,
            now,
            "licence.wind_down",
            "licence",
            id_of(licence),
            from_status="active",
            to_status="active",
            reason=reason,
            ends_at=licence.ends_at.isoformat(),
        )
    else:
        return False
    return True


def revoke(uow: UnitOfWork, actor: Actor, now: datetime, licence_id: int, reason: str = "") -> Licence:
    """The creator (or an admin) ends a licence under its termination terms."""
    licence = get_licence(uow, actor, licence_id, lock=True)
    cameo = get_existing(uow.session, Cameo, licence.cameo_id)
    if actor.user_id != cameo.creator_id and actor.role != "admin":
        raise Forbidden("Only the cameo's creator or an admin can revoke a licence.")
    if licence.status not in LIVE:
        raise Conflict(f"A {licence.status} licence cannot be revoked.")
    if not _terminate(uow, actor, now, licence, reason or "revoked by licensor"):
        raise Conflict("The licence is already winding down.", ends_at=licence.ends_at.isoformat())
    return licence


def terminate_for_cameo(uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int, reason: str) -> list[int]:
    """Consent withdrawn: end or wind down every licence of the cameo that is not over."""
    query = (
        select(Licence)
        .where(Licence.cameo_id == cameo_id, col(Licence.status).in_(("requested", "approved", *LIVE)))
        .order_by(col(Licence.id))
        .with_for_update()
    )
    return [id_of(licence) for licence in uow.session.exec(query).all() if _terminate(uow, actor, now, licence, reason)]


def expire_due(uow: UnitOfWork, now: datetime) -> list[int]:
    """For the scheduler: active licences whose end has come become expired, or revoked
    when they were winding down after a revocation."""
    query = (
        select(Licence)
        .where(Licence.status == "active", Licence.ends_at <= now)
        .order_by(col(Licence.id))
        .with_for_update()
    )
    done = []
    for licence in uow.session.exec(query).all():
        licence.ended_at = licence.ends_at
        if licence.revocation_requested_at is not None:
            _transition(uow, SYSTEM, now, licence, "revoked", "licence.revoke", reason=licence.end_reason)
        else:
            licence.end_reason = "term ended"
            _transition(uow, SYSTEM, now, licence, "expired", "licence.expire")
        done.append(id_of(licence))
    return done
