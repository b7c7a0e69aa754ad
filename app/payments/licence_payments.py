"""Licence fee payments (issue #5.1): Checkout on the platform account, booked from webhooks.

* ``start_licence_checkout`` — the licensee brand pays a ``signed`` licence's upfront
  fee — and its advance, when the licence has one — through a Stripe Checkout Session
  (idempotency key ``licence-checkout:<id>:<n>``; an open session is handed out again
  rather than duplicated — when asked for with the same return addresses: with other
  ones it is a conflict, as for every idempotent input).
* ``record_licence_payment`` — called from the verified ``checkout.session.completed``
  or ``payment_intent.succeeded`` webhook, whichever comes first: re-fetches the
  charge (amount, Stripe fee) from Stripe, marks the licence paid/active and posts the
  ``licence-sale:<licence_id>`` entry, all in the event's unit of work — exactly once,
  whatever the order or repetition of deliveries.  The advance goes to the brand's
  ``brand:Y:advance`` in the same entry (``recipes.licence_sale(advance=…)``).  A payment
  dated in a month closed since is booked at the first open moment (``EventContext.post``).
* ``apply_refund`` / ``apply_dispute`` — ``refund.created`` (and ``charge.refunded``)
  and ``charge.dispute.created`` / ``charge.dispute.funds_withdrawn`` post the
  reversing entry of ``app.books.recipes.refund`` once per Stripe refund / dispute id;
  a creator's share that their payable can no longer cover (paid out already) goes
  to ``creator:X:recoverable``.  A refund of a payment with an advance comes out of
  what is left of the advance first (the brand gets back what its uses did not recoup).

A refund or dispute of a licence payment whose payment event has not been applied yet
waits (``EventNotReady``, retried); one about a payment that is not a licence payment
is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from app.books import chart, kinds, recipes
from app.books.advances import unrecouped
from app.db import UnitOfWork, get_existing, id_of
from app.errors import Conflict, Forbidden
from app.marketplace import licences
from app.marketplace.models import Licence
from app.people import audit
from app.people.actors import Actor
from ledger import Ledger, UnknownAccount

from .events import (
    EventContext,
    EventNotReady,
    WebhookHandlers,
)
from .gateway import (
    CheckoutSession,
    IdempotencyKeyReused,
    PaymentError,
    PaymentGateway,
    WebhookEvent,
)
from .models import LicencePayment, LicencePaymentAdjustment
from .problems import provider_problem

log = logging.getLogger(__name__)


class CheckoutConflict(Conflict):
    title = "Checkout already open"


KIND = "licence_fee"
ADJUSTMENT_KINDS = {"refund": kinds.LICENCE_REFUND, "dispute": kinds.LICENCE_DISPUTE}  # the entry kind of each
MAX_CHECKOUT_ATTEMPTS = 20
# A paid session's webhooks arrive within Stripe's 3 days of retries (sessions live ≤ 24 h).
UNRECORDED_WINDOW = timedelta(days=5)


def sale_key(licence_id: int) -> str:
    return f"licence-sale:{licence_id}"


def checkout_key(licence_id: int, attempt: int) -> str:
    return f"licence-checkout:{licence_id}:{attempt}"


# --- starting a payment -------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutStarted:
    licence_id: int
    checkout_session_id: str
    url: str | None
    amount: int
    currency: str


def _payment_row(uow: UnitOfWork, licence_id: int) -> LicencePayment | None:
    query = select(LicencePayment).where(LicencePayment.licence_id == licence_id).with_for_update()
    return uow.session.exec(query).first()


def start_licence_checkout(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    licence_id: int,
    gateway: PaymentGateway,
    success_url: str,
    cancel_url: str,
) -> CheckoutStarted:
    """A Checkout Session for the upfront fee of a signed licence (the licensee brand only)."""
    licence = licences.get_licence(uow, actor, licence_id, lock=True)
    if actor.role != "brand" or licence.brand_org_id not in actor.org_ids:
        raise Forbidden("Only the licensee brand pays the licence fee.")
    payment = _payment_row(uow, id_of(licence))
    if licence.status != "signed" or (payment is not None and payment.status != "open"):
        raise Conflict(
            f"This licence is {licence.status}; only a signed licence awaiting its fee can be paid.",
            status_now=licence.status,
        )
    if licence.amount_due_minor <= 0:
        raise Conflict("This licence has no upfront fee to pay.")
    try:
        if payment is not None and payment.checkout_session_id:
            current = gateway.retrieve_checkout_session(payment.checkout_session_id)
            if current.status == "open":
                if (current.success_url, current.cancel_url) not in ((success_url, cancel_url), (None, None)):
                    raise CheckoutConflict(
                        "A checkout for this licence is open with other return addresses: pay it at its url, "
                        "or ask again with the same success_url and cancel_url.",
                        code="idempotency_conflict",
                        checkout_session_id=current.id,
                        url=current.url,
                    )
                return _started(licence, current)
            if current.status == "complete":
                raise Conflict("The licence fee has been paid; the payment is being recorded.")
            payment.checkout_attempt += 1  # the old session expired: open a new one
        if payment is None:
            payment = LicencePayment(
                licence_id=id_of(licence),
                amount=licence.amount_due_minor,
                currency=licence.currency,
                status="open",
                created_at=now,
                updated_at=now,
            )
            uow.session.add(payment)
        session = _create_session(gateway, licence, payment, success_url, cancel_url)
    except PaymentError as exc:
        raise provider_problem(exc) from exc
    payment.checkout_session_id, payment.updated_at = session.id, now
    uow.session.flush()
    audit.record(
        uow,
        actor,
        now,
        "licence.checkout",
        "licence",
        id_of(licence),
        checkout_session_id=session.id,
        amount_minor=licence.amount_due_minor,
        currency=licence.currency,
    )
    return _started(licence, session)


def _create_session(
    gateway: PaymentGateway, licence: Licence, payment: LicencePayment, success_url: str, cancel_url: str
) -> CheckoutSession:
    """Create the session; a key already used with other parameters (a session created
    before a rollback, with other URLs) moves on to the next attempt number."""
    while True:
        try:
            return gateway.create_checkout_session(
                amount=licence.amount_due_minor,
                currency=licence.currency,
                product_name=f"Licence #{licence.id} upfront fee"
                + (" and advance (minimum guarantee)" if licence.advance_minor else ""),
                success_url=success_url,
                cancel_url=cancel_url,
                idempotency_key=checkout_key(id_of(licence), payment.checkout_attempt),
                metadata={"kind": KIND, "licence_id": str(licence.id)},
                client_reference_id=f"licence-{licence.id}",
            )
        except IdempotencyKeyReused:
            if payment.checkout_attempt >= MAX_CHECKOUT_ATTEMPTS:
                raise
            payment.checkout_attempt += 1


def _started(licence: Licence, session: CheckoutSession) -> CheckoutStarted:
    return CheckoutStarted(
        licence_id=id_of(licence),
        checkout_session_id=session.id,
        url=session.url,
        amount=licence.amount_due_minor,
        currency=licence.currency,
    )


# --- recording it ----------------------------------------------------------------------------


def owners_of(licence: Licence) -> list[recipes.Owner]:
    """The co-owners named in the signed contract share its proceeds (creator id = user id)."""
    return [recipes.Owner(creator_id=int(o["user_id"]), share=int(o["share_bps"])) for o in licence.owners]


def record_licence_payment(
    uow: UnitOfWork, ctx: EventContext, licence_id: int, payment_intent_id: str, effective_at: datetime
) -> LicencePayment:
    """Mark the licence paid and post its sale entry, once (the licence's row lock orders racers)."""
    licence = uow.session.get(Licence, licence_id, with_for_update=True)
    if licence is None:
        raise LookupError(f"licence {licence_id} does not exist")
    payment = _payment_row(uow, licence_id)
    if payment is not None and payment.sale_entry_seq is not None:
        if payment.payment_intent_id != payment_intent_id:
            raise Conflict(
                f"licence {licence_id} was already paid by {payment.payment_intent_id}; "
                f"{payment_intent_id} needs a refund"
            )
        return payment
    charge = ctx.gateway.retrieve_charge(payment_intent_id=payment_intent_id)
    if payment is None:  # the session's row was lost (e.g. created by an earlier deployment)
        payment = LicencePayment(
            licence_id=licence_id,
            amount=licence.amount_due_minor,
            currency=licence.currency,
            status="open",
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        uow.session.add(payment)
    if (charge.amount, charge.currency) != (payment.amount, payment.currency):
        raise Conflict(
            f"charge {charge.id} is {charge.amount} {charge.currency}, the licence fee "
            f"{payment.amount} {payment.currency}"
        )
    licences.mark_paid(uow, licence_id, ctx.now, payment_ref=payment_intent_id)
    advance = licence.advance_minor
    draft = recipes.licence_sale(
        key=sale_key(licence_id),
        effective_at=effective_at,
        currency=charge.currency,
        gross=charge.amount - advance,
        stripe_fee=charge.fee,
        commission_bps=licence.commission_bps,
        owners=owners_of(licence),
        advance=advance,
        brand_id=licence.brand_org_id,
        memo=f"licence #{licence_id} upfront fee" + (" and advance" if advance else ""),
        meta={"licence_id": licence_id, "payment_intent": payment_intent_id, "charge": charge.id}
        | ({"advance": advance} if advance else {}),
    )
    posted = ctx.post(uow, draft)
    payment.payment_intent_id, payment.charge_id, payment.fee = payment_intent_id, charge.id, charge.fee
    payment.status, payment.sale_entry_seq, payment.paid_at, payment.updated_at = (
        "paid",
        posted.seq,
        effective_at,
        ctx.now,
    )
    uow.session.flush()
    return payment


# --- refunds and disputes ----------------------------------------------------------------------


def _payment_for(
    uow: UnitOfWork, ctx: EventContext, payment_intent_id: str | None, charge_id: str | None
) -> LicencePayment | None:
    """The licence payment a refund/dispute is about, or None when it is not a licence
    payment.  When it is one whose payment has not been recorded yet — found by
    re-fetching the recent unrecorded checkout sessions — the event waits."""
    query = select(LicencePayment).with_for_update()
    if payment_intent_id:
        payment = uow.session.exec(query.where(LicencePayment.payment_intent_id == payment_intent_id)).first()
    else:
        payment = uow.session.exec(query.where(LicencePayment.charge_id == charge_id)).first()
    if payment is not None or not payment_intent_id:
        return payment
    unrecorded = uow.session.exec(
        select(LicencePayment)
        .where(
            col(LicencePayment.sale_entry_seq).is_(None),
            col(LicencePayment.checkout_session_id).is_not(None),
            LicencePayment.updated_at >= ctx.now - UNRECORDED_WINDOW,
        )
        .order_by(col(LicencePayment.id))
    ).all()
    for candidate in unrecorded:
        if candidate.checkout_session_id is None:  # the query leaves these out
            continue
        session = ctx.gateway.retrieve_checkout_session(candidate.checkout_session_id)
        if session.payment_intent_id == payment_intent_id:
            raise EventNotReady(
                f"the payment {payment_intent_id} of licence {candidate.licence_id} is not recorded yet"
            )
    return None


def _payable_available(ledger: Ledger, uow: UnitOfWork, owners: list[recipes.Owner], currency: str) -> dict[int, int]:
    available = {}
    for owner in owners:
        try:  # a liability's balance is a credit: negative in the book's signed amounts
            available[owner.creator_id] = max(
                0, -ledger.balance(uow.session, chart.creator_payable(owner.creator_id, currency)).minor
            )
        except UnknownAccount:
            available[owner.creator_id] = 0
    return available


def _adjust(
    uow: UnitOfWork,
    ctx: EventContext,
    payment: LicencePayment,
    *,
    kind: str,
    stripe_id: str,
    amount: int,
    fee: int,
    effective_at: datetime,
) -> LicencePaymentAdjustment | None:
    done = uow.session.exec(
        select(LicencePaymentAdjustment).where(LicencePaymentAdjustment.stripe_id == stripe_id)
    ).first()
    if done is not None:
        return done
    licence = get_existing(uow.session, Licence, payment.licence_id)
    owners = owners_of(licence)
    advance = min(licence.advance_minor, payment.amount)
    original = recipes.split(payment.amount - advance, licence.commission_bps, owners)
    from_advance = 0
    if advance:  # what the uses have not recouped yet goes back first
        licence_id = id_of(licence)
        left = unrecouped(uow.session.connection(), licence.brand_org_id, payment.currency, [licence_id])
        from_advance = min(amount, max(left[licence_id], 0))
    draft = recipes.refund(
        key=f"licence-{kind}:{stripe_id}",
        effective_at=effective_at,
        currency=payment.currency,
        amount=amount,
        original=original,
        payable_available=_payable_available(ctx.ledger, uow, owners, payment.currency),
        dispute_fee=fee,
        from_advance=from_advance,
        brand_id=licence.brand_org_id,
        kind=ADJUSTMENT_KINDS[kind],
        memo=f"licence #{licence.id} {kind} {stripe_id}",
        meta={"licence_id": licence.id, kind: stripe_id, "payment_intent": payment.payment_intent_id},
    )
    posted = ctx.post(uow, draft)
    row = LicencePaymentAdjustment(
        licence_payment_id=id_of(payment),
        kind=kind,
        stripe_id=stripe_id,
        amount=amount,
        fee=fee,
        entry_seq=posted.seq,
        effective_at=effective_at,
        created_at=ctx.now,
    )
    uow.session.add(row)
    if kind == "refund":
        payment.refunded_amount += amount
        payment.status = "refunded" if payment.refunded_amount >= payment.amount else "partially_refunded"
    else:
        payment.disputed_amount += amount
        payment.status = "disputed"
    payment.updated_at = ctx.now
    uow.session.flush()
    return row


def apply_refund(
    uow: UnitOfWork, ctx: EventContext, refund: Mapping[str, Any], effective_at: datetime
) -> LicencePaymentAdjustment | None:
    if refund.get("status") in ("failed", "canceled"):
        return None
    payment = _payment_for(uow, ctx, _id(refund.get("payment_intent")), _id(refund.get("charge")))
    if payment is None:
        return None
    return _adjust(
        uow,
        ctx,
        payment,
        kind="refund",
        stripe_id=refund["id"],
        amount=int(refund["amount"]),
        fee=0,
        effective_at=effective_at,
    )


def apply_dispute(
    uow: UnitOfWork, ctx: EventContext, dispute: Mapping[str, Any], effective_at: datetime
) -> LicencePaymentAdjustment | None:
    withdrawals = [t for t in dispute.get("balance_transactions") or () if int(t.get("amount", 0)) < 0]
    if not withdrawals:
        return None  # funds not withdrawn yet: charge.dispute.funds_withdrawn will say when
    payment = _payment_for(uow, ctx, _id(dispute.get("payment_intent")), _id(dispute.get("charge")))
    if payment is None:
        return None
    withdrawn = -sum(int(t["amount"]) for t in withdrawals)
    fee = sum(int(t.get("fee", 0)) for t in withdrawals)
    return _adjust(
        uow, ctx, payment, kind="dispute", stripe_id=dispute["id"], amount=withdrawn, fee=fee, effective_at=effective_at
    )


def _id(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else value.get("id")


def on_refund_created(uow: UnitOfWork, event: WebhookEvent, ctx: EventContext) -> None:
    apply_refund(uow, ctx, event.data_object, event.created)


def on_charge_refunded(uow: UnitOfWork, event: WebhookEvent, ctx: EventContext) -> None:
    """Apply the refunds the charge lists; a charge without its refund list (API ≥ 2022-11-15)
    waits until the ``refund.created`` events have brought our total up to the charge's."""
    charge = event.data_object
    listed = (charge.get("refunds") or {}).get("data") if isinstance(charge.get("refunds"), dict) else None
    for refund in listed or ():
        apply_refund(uow, ctx, refund, datetime.fromtimestamp(int(refund["created"]), tz=UTC))
    payment = _payment_for(uow, ctx, _id(charge.get("payment_intent")), charge.get("id"))
    if payment is not None and payment.refunded_amount < int(charge.get("amount_refunded") or 0):
        raise EventNotReady(
            f"charge {charge.get('id')} shows {charge.get('amount_refunded')} refunded, "
            f"{payment.refunded_amount} recorded: waiting for its refund events"
        )


def on_dispute(uow: UnitOfWork, event: WebhookEvent, ctx: EventContext) -> None:
    apply_dispute(uow, ctx, event.data_object, event.created)


def register_handlers(handlers: WebhookHandlers) -> None:
    handlers.register_payment(KIND, "licence_id", record_licence_payment)
    handlers.register("refund.created", on_refund_created)
    handlers.register("charge.refunded", on_charge_refunded)
    handlers.register("charge.dispute.created", on_dispute)
    handlers.register("charge.dispute.funds_withdrawn", on_dispute)
