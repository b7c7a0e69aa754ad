"""Licences follow their terms: the scheduler ends every licence whose end has come.

``end_due_licences`` runs ``licences.expire_due`` (a licence past its term becomes
``expired``; one winding down after a revocation or a consent withdrawal becomes
``revoked``, each with its audit entry) and, in the same transaction, for each licence
it ended:

* books what the end earns: the creators' share of an advance the uses did not recoup
  (``on_end`` — the books' part, handed in by the caller so this module posts nothing
  itself);
* queues a notice to each of its parties — the licence's owners and the members of the
  licensee brand — through the mail outbox (``app.mail.outbox.enqueue``, key
  ``licence-ended:<licence>:<user>``), so a message exists exactly when the change
  commits and a rerun queues nothing twice.

``end_due_licences_job`` is the scheduler's adapter: it takes the collaborators from
the app and commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from jinja2 import Environment
from sqlmodel import col, select

from app.books import recipes
from app.books.advances import earn_unrecouped_advance
from app.clock import Clock
from app.db import Database, UnitOfWork, get_existing, id_of
from app.kit.registry import provided
from app.mail.outbox import enqueue
from app.mail.rendering import render_mail
from app.people.models import Membership, Organisation, User
from ledger import Ledger
from ledger.canonical import iso_utc

from . import licences
from .models import Cameo, Licence

log = logging.getLogger(__name__)
MAIL_TEMPLATE = "licence_ended"

OnEnd = Callable[[UnitOfWork, Licence, datetime], None]


@dataclass(frozen=True)
class EndedLicence:
    licence_id: int
    status: str  # expired | revoked
    notified: tuple[str, ...]  # e-mail addresses a notice was queued for


def parties(uow: UnitOfWork, licence: Licence) -> list[User]:
    """Who must hear about the licence: its owners and the licensee brand's members (active users)."""
    owner_ids = {int(o["user_id"]) for o in licence.owners or []}
    if not owner_ids:
        cameo = uow.session.get(Cameo, licence.cameo_id)
        owner_ids = {cameo.creator_id} if cameo is not None else set()
    members = set(
        uow.session.exec(select(Membership.user_id).where(Membership.organisation_id == licence.brand_org_id)).all()
    )
    users = uow.session.exec(select(User).where(col(User.id).in_(owner_ids | members)).order_by(col(User.id))).all()
    return [u for u in users if u.is_active]


def end_due_licences(
    uow: UnitOfWork, now: datetime, *, mail_env: Environment, on_end: OnEnd | None = None
) -> list[EndedLicence]:
    """End every licence due at ``now`` (see the module docstring); the caller commits."""
    ended = []
    for licence_id in licences.expire_due(uow, now):
        licence = get_existing(uow.session, Licence, licence_id)
        if on_end is not None:
            on_end(uow, licence, now)
        cameo = uow.session.get(Cameo, licence.cameo_id)
        brand = uow.session.get(Organisation, licence.brand_org_id)
        sent = []
        for user in parties(uow, licence):
            rendered = render_mail(
                mail_env,
                MAIL_TEMPLATE,
                person=user.display_name,
                licence=licence,
                cameo_title=cameo.title if cameo else f"cameo #{licence.cameo_id}",
                brand_name=brand.name if brand else f"brand #{licence.brand_org_id}",
                ended_at=iso_utc(licence.ended_at or now),
                revoked=licence.status == "revoked",
            )
            enqueue(
                uow,
                to=user.email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                key=f"licence-ended:{licence_id}:{user.id}",
                now=now,
                template=rendered.template,
            )
            sent.append(user.email)
        ended.append(EndedLicence(licence_id, licence.status, tuple(sent)))
    return ended


def advance_earner(ledger: Ledger) -> OnEnd:
    """The books' part of a licence's end: its owners earn what is left of its advance."""

    def earn(uow: UnitOfWork, licence: Licence, at: datetime) -> None:
        if licence.advance_minor > 0:
            earn_unrecouped_advance(
                uow.session,
                ledger,
                licence_id=id_of(licence),
                brand_id=licence.brand_org_id,
                currency=licence.currency,
                commission_bps=licence.commission_bps,
                owners=[recipes.Owner(int(o["user_id"]), int(o["share_bps"])) for o in licence.owners or []],
                now=at,
            )

    return earn


def end_due_licences_job() -> list[EndedLicence]:
    """The scheduler's ``licences-expire`` job (in the app's context)."""
    now = provided(Clock)()
    with provided(Database).unit_of_work() as uow:
        ended = end_due_licences(uow, now, mail_env=current_app.jinja_env, on_end=advance_earner(provided(Ledger)))
        uow.commit()
    for done in ended:
        log.info("licence %s %s; notified %d parties", done.licence_id, done.status, len(done.notified))
    return ended
