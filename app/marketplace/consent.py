"""Consent: the liveness recording (stored under instance/, with its sha256) and the
consent statement signed with time, IP and user agent.  Withdrawal pauses the listing
and applies every live licence's termination terms."""

from __future__ import annotations

import hashlib
from datetime import datetime

from app.db import UnitOfWork, get_existing, id_of
from app.errors import Conflict, ValidationProblem
from app.people import audit
from app.people.actors import Actor
from app.people.models import User

from . import licences
from .cameos import active_consent, get_cameo, get_managed_cameo, owners
from .models import Cameo, Consent
from .schemas import ConsentIn
from .storage import RECORDING_TYPES, FileStore, sniff_recording

STATEMENT = """CONSENT TO LICENSE MY LIKENESS

I, {creator}, confirm that the {kind} cameo "{title}" (cameo #{cameo_id}) depicts me, or
something I own or have the right to license, and that the attached liveness recording
(sha256 {recording_note}) was made by me, knowingly, for this purpose.

I consent to Cameo Exchange offering licences to use this likeness in AI-generated media,
only on the contract terms I choose for each offer, never for the content categories I
block, and only for intended uses each licensee describes with reasonable specificity.

The co-owners of this cameo and their shares are: {owners}.

I understand that I can withdraw this consent at any time.  Withdrawal pauses the
listing at once and ends every live licence as its contract's revocation terms provide.
"""


def statement(uow: UnitOfWork, actor: Actor, cameo_id: int) -> tuple[str, str]:
    """The statement the creator is asked to sign, and its sha256."""
    cameo = get_managed_cameo(uow, actor, cameo_id)
    return _statement(uow, cameo)


def _statement(uow: UnitOfWork, cameo: Cameo) -> tuple[str, str]:
    creator = get_existing(uow.session, User, cameo.creator_id)
    names = []
    for owner in owners(uow, id_of(cameo)):
        user = get_existing(uow.session, User, owner.user_id)
        names.append(f"{user.display_name} ({owner.share_bps / 100:g} %)")
    text = STATEMENT.format(
        creator=creator.display_name,
        kind=cameo.kind,
        title=cameo.title,
        cameo_id=cameo.id,
        recording_note="recorded with this statement",
        owners="; ".join(names),
    )
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_consent(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    cameo_id: int,
    data: ConsentIn,
    recording: bytes,
    *,
    store: FileStore,
    max_bytes: int,
) -> Consent:
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    if active_consent(uow, id_of(cameo)) is not None:
        raise Conflict("Consent is already on record; withdraw it first to record a new one.")
    text, digest = _statement(uow, cameo)
    if data.statement_sha256 != digest:
        raise ValidationProblem(
            "The statement changed since it was shown; read it again.",
            errors={"statement_sha256": "does not match the current consent statement"},
            status=409,
            title="Conflict",
        )
    stored = store.store_checked(
        "consent",
        recording,
        field="recording",
        max_bytes=max_bytes,
        sniff=sniff_recording,
        types=RECORDING_TYPES,
        what="video or audio recording",
    )
    consent = Consent(
        cameo_id=id_of(cameo),
        signed_by=actor.user_id,
        recording_path=stored.path,
        recording_sha256=stored.sha256,
        recording_content_type=stored.content_type,
        recording_size=stored.size,
        statement_text=text,
        statement_sha256=digest,
        owners=[{"user_id": o.user_id, "share_bps": o.share_bps} for o in owners(uow, id_of(cameo))],
        signed_at=now,
        signed_ip=actor.ip,
        signed_user_agent=actor.user_agent,
    )
    uow.session.add(consent)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        now,
        "consent.record",
        "cameo",
        id_of(cameo),
        consent_id=consent.id,
        recording_sha256=stored.sha256,
        statement_sha256=digest,
    )
    return consent


def current(uow: UnitOfWork, actor: Actor, cameo_id: int) -> Consent | None:
    cameo = get_cameo(uow, actor, cameo_id)
    return active_consent(uow, id_of(cameo))


def withdraw_consent(uow: UnitOfWork, actor: Actor, now: datetime, cameo_id: int) -> Consent:
    cameo = get_managed_cameo(uow, actor, cameo_id, lock=True)
    consent = active_consent(uow, id_of(cameo))
    if consent is None:
        raise Conflict("There is no consent on record to withdraw.")
    consent.withdrawn_at, consent.withdrawn_ip, consent.withdrawn_user_agent = now, actor.ip, actor.user_agent
    audit.record(uow, actor, now, "consent.withdraw", "cameo", id_of(cameo), consent_id=id_of(consent))
    if cameo.status == "listed":
        before, cameo.status, cameo.updated_at = cameo.status, "paused", now
        audit.record(
            uow,
            actor,
            now,
            "cameo.pause",
            "cameo",
            id_of(cameo),
            from_status=before,
            to_status="paused",
            reason="consent withdrawn",
        )
    licences.terminate_for_cameo(uow, actor, now, id_of(cameo), reason="consent withdrawn")
    return consent
