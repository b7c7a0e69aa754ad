"""Stripe Connect onboarding for creators (issue #6.1).

* ``start_onboarding`` — a creator (only a creator, only for themself) asks to
  connect: the Express account is created once (idempotency key
  ``connect-account:<creator_id>``, metadata ``creator_id``; the creator's user row
  is locked so two clicks cannot race) and recorded in ``connect_account``; every
  call returns a fresh account link (links are single-use and expire in minutes).
* ``refresh_account`` — the creator is back from Stripe's form (the return URL):
  re-fetch the account, because returning proves nothing about what was submitted.
* ``on_account_updated`` — the ``account.updated`` webhook, the authority on
  ``payouts_enabled`` and outstanding requirements.  ``stripe_updated_at`` keeps
  the instant of the newest account state applied: an older event (delivered late
  or replayed) changes nothing; an event of the same second cannot be ordered by
  its timestamp, so the account is fetched again from Stripe instead.  An event for
  an account whose row was lost (the creating transaction died after Stripe made
  the account) re-creates the row from the account's ``creator_id`` metadata.

``payout_status.describe`` turns the row into the plain-words hold reason that the
dashboard, the API and settlement all show.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from app.db import UnitOfWork, get_existing, id_of
from app.errors import Conflict
from app.people import audit
from app.people.actors import Actor
from app.people.models import User

from .events import EventContext, WebhookHandlers
from .gateway import ConnectedAccount, PaymentError, PaymentGateway, WebhookEvent
from .models import ConnectAccount
from .payout_status import PayoutStatus, describe
from .problems import provider_problem

log = logging.getLogger(__name__)
DEFAULT_COUNTRY = "US"


def account_key(creator_id: int) -> str:
    return f"connect-account:{creator_id}"


@dataclass(frozen=True)
class OnboardingLink:
    stripe_account_id: str
    url: str


@dataclass(frozen=True)
class PayoutsPanel:
    """What the creator's dashboard shows about getting paid."""

    status: PayoutStatus
    connected: bool
    details_submitted: bool
    charges_enabled: bool
    requirements_due: tuple[str, ...]

    @property
    def may_onboard(self) -> bool:
        """A "Connect Stripe" / "Continue onboarding" button makes sense."""
        return not self.status.can_pay


def _row(uow: UnitOfWork, creator_id: int, *, lock: bool = False) -> ConnectAccount | None:
    query = select(ConnectAccount).where(ConnectAccount.creator_id == creator_id)
    return uow.session.exec(query.with_for_update() if lock else query).first()


def payouts_panel(uow: UnitOfWork, actor: Actor) -> PayoutsPanel:
    actor.require_role("creator")
    row = _row(uow, actor.user_id)
    return PayoutsPanel(
        status=describe(row),
        connected=row is not None,
        details_submitted=bool(row and row.details_submitted),
        charges_enabled=bool(row and row.charges_enabled),
        requirements_due=tuple(sorted(row.requirements_due)) if row else (),
    )


def start_onboarding(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    gateway: PaymentGateway,
    *,
    return_url: str,
    refresh_url: str,
    country: str = DEFAULT_COUNTRY,
) -> OnboardingLink:
    """The creator's connected account (created on the first call) and a fresh onboarding link."""
    actor.require_role("creator")
    user = get_existing(uow.session, User, actor.user_id, with_for_update=True)  # one onboarding at a time per creator
    row = _row(uow, actor.user_id, lock=True)
    if row is not None and describe(row).can_pay:
        raise Conflict("Your Stripe account is connected and payouts are enabled; there is nothing to finish.")
    try:
        if row is None:
            account = gateway.create_connected_account(
                email=user.email,
                country=country,
                idempotency_key=account_key(id_of(user)),
                metadata={"creator_id": str(user.id)},
            )
            row = ConnectAccount(
                creator_id=id_of(user),
                stripe_account_id=account.id,
                country=(account.country or country).upper(),
                created_at=now,
                updated_at=now,
            )
            apply_account(row, account, as_of=now, now=now)
            uow.session.add(row)
            uow.session.flush()
            audit.record(uow, actor, now, "payouts.connect", "user", id_of(user), stripe_account_id=account.id)
        url = gateway.create_account_link(
            account_id=row.stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )
    except PaymentError as exc:
        raise provider_problem(exc) from exc
    return OnboardingLink(row.stripe_account_id, url)


def refresh_account(uow: UnitOfWork, actor: Actor, now: datetime, gateway: PaymentGateway) -> PayoutStatus:
    """Back from Stripe's form: what Stripe says about the account now."""
    actor.require_role("creator")
    row = _row(uow, actor.user_id, lock=True)
    if row is None:
        return describe(None)
    try:
        account = gateway.retrieve_account(row.stripe_account_id)
    except PaymentError as exc:
        raise provider_problem(exc) from exc
    apply_account(row, account, as_of=now, now=now)
    uow.session.flush()
    return describe(row)


def apply_account(row: ConnectAccount, account: ConnectedAccount, *, as_of: datetime, now: datetime) -> bool:
    """Copy Stripe's account state as of ``as_of`` onto the row, unless the row already
    holds a newer one; True when applied."""
    if row.stripe_updated_at is not None and as_of < row.stripe_updated_at:
        return False
    row.charges_enabled = account.charges_enabled
    row.payouts_enabled = account.payouts_enabled
    row.details_submitted = account.details_submitted
    row.requirements_due = sorted(account.requirements_due)
    row.stripe_updated_at, row.updated_at = as_of, now
    return True


def account_from_event(obj: Mapping[str, Any]) -> ConnectedAccount:
    """The account object of an ``account.updated`` event, in the gateway's vocabulary."""
    requirements = obj.get("requirements") or {}
    return ConnectedAccount(
        id=obj["id"],
        charges_enabled=bool(obj.get("charges_enabled")),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        details_submitted=bool(obj.get("details_submitted")),
        requirements_due=tuple(requirements.get("currently_due") or ()),
        email=obj.get("email"),
        country=obj.get("country"),
    )


def _recreated_row(uow: UnitOfWork, obj: Mapping[str, Any], now: datetime) -> ConnectAccount | None:
    """The row of an account we created but whose row was never committed, from its metadata."""
    raw_id = (obj.get("metadata") or {}).get("creator_id")
    if raw_id is None:
        return None
    try:
        creator_id = int(raw_id)
    except (TypeError, ValueError):
        return None
    user = uow.session.get(User, creator_id)
    if user is None or user.role != "creator" or _row(uow, creator_id, lock=True) is not None:
        return None
    row = ConnectAccount(
        creator_id=creator_id,
        stripe_account_id=obj["id"],
        country=str(obj.get("country") or DEFAULT_COUNTRY).upper(),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    return row


def on_account_updated(uow: UnitOfWork, event: WebhookEvent, ctx: EventContext) -> None:
    obj = event.data_object
    account_id = obj.get("id") or event.account
    row = uow.session.exec(
        select(ConnectAccount).where(ConnectAccount.stripe_account_id == account_id).with_for_update()
    ).first()
    if row is None:
        row = _recreated_row(uow, obj, ctx.now)
        if row is None:
            log.info("Stripe event %s: account %s is not a creator's connected account", event.id, account_id)
            return
    if row.stripe_updated_at is not None and event.created < row.stripe_updated_at:
        log.info("Stripe event %s: older than the account state already applied; ignored", event.id)
        return
    if row.stripe_updated_at is not None and event.created == row.stripe_updated_at:
        account = ctx.gateway.retrieve_account(row.stripe_account_id)  # same second: only Stripe knows which is newer
    else:
        account = account_from_event(obj)
    apply_account(row, account, as_of=event.created, now=ctx.now)
    uow.session.flush()


def register_handlers(handlers: WebhookHandlers) -> None:
    handlers.register("account.updated", on_account_updated)
