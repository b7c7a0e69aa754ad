"""Money in: payment intents, charges, refunds and disputes.

Every successful payment goes through :func:`succeed_payment`: a
``payment_intent`` (status ``succeeded``) and its ``charge``, whose balance
transaction books the gross amount and the fee of :mod:`stripe_emulator.money`,
pending for the emulator's ``available_delay``.
There are no real cards: a payment intent confirmed with any ``payment_method``
succeeds; checkout sessions succeed through their Pay page; and
:func:`add_platform_funds` is Stripe's "bypass pending" test card.

Refunds book a negative ``refund`` transaction (Stripe keeps the fee) and emit
``charge.refunded``; a dispute (only opened through the control API) books
``-amount`` plus the dispute fee as an ``adjustment`` and emits
``charge.dispute.created``.
"""

from __future__ import annotations

from typing import Any

from .. import money
from ..errors import StripeError
from ..money import dispute_fee, processing_fee
from ..state import AccountBook
from .balance import post_transaction
from .common import (
    Call,
    Context,
    currency_param,
    metadata_param,
    positive_amount,
    public_copy,
    readable,
    render,
    require,
    route,
)


def _payment_intent(
    ctx: Context, book: AccountBook, amount: int, currency: str, metadata: dict[str, str], description: str | None
) -> dict[str, Any]:
    return book.add(
        {
            "id": ctx.ids.new("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": "automatic",
            "client_secret": None,
            "confirmation_method": "automatic",
            "created": ctx.now(),
            "currency": currency,
            "description": description,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "payment_method": None,
            "payment_method_types": ["card"],
            "status": "requires_payment_method",
            "transfer_group": None,
        }
    )


def succeed_payment(
    ctx: Context,
    book: AccountBook,
    intent: dict[str, Any],
    payment_method: str = "pm_card_visa",
    *,
    bypass_pending: bool = False,
) -> dict[str, Any]:
    """Charge ``intent`` in full; returns the charge (its funds pending unless ``bypass_pending``)."""
    amount, currency = intent["amount"], intent["currency"]
    charge_id = ctx.ids.new("ch")
    txn = post_transaction(
        ctx,
        book,
        type="charge",
        amount=amount,
        currency=currency,
        source=charge_id,
        fee=processing_fee(amount, currency),
        description=intent.get("description"),
        available_on=ctx.now() + (0 if bypass_pending else ctx.available_delay),
    )
    charge = book.add(
        {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "balance_transaction": txn["id"],
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "captured": True,
            "created": ctx.now(),
            "currency": currency,
            "description": intent.get("description"),
            "disputed": False,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": payment_method,
            "refunded": False,
            "status": "succeeded",
            "transfer_group": intent.get("transfer_group"),
        }
    )
    previous = {"status": intent["status"]}
    intent.update(status="succeeded", latest_charge=charge_id, amount_received=amount, payment_method=payment_method)
    ctx.emit(book, "payment_intent.succeeded", intent, previous)
    ctx.emit(book, "charge.succeeded", charge)
    return charge


def create_paid_intent(
    ctx: Context,
    book: AccountBook,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    description: str | None = None,
    *,
    bypass_pending: bool = False,
) -> dict[str, Any]:
    intent = _payment_intent(ctx, book, amount, currency, metadata, description)
    ctx.emit(book, "payment_intent.created", intent)
    succeed_payment(ctx, book, intent, bypass_pending=bypass_pending)
    return intent


def add_platform_funds(ctx: Context, amount: int, currency: str) -> dict[str, Any]:
    """Stripe's test card 4000 0000 0000 0077: a charge whose funds are available at once.

    The platform's available balance grows by the charge's *net* (amount − fee).
    """
    currency = money.currency(currency)
    intent = create_paid_intent(
        ctx,
        ctx.store.platform,
        money.check_amount(amount, currency),
        currency,
        {},
        "Emulator: platform funds (bypass pending)",
        bypass_pending=True,
    )
    return ctx.store.platform.objects[intent["latest_charge"]]


@route("post", "/v1/payment_intents")
def create_payment_intent(call: Call) -> dict[str, Any]:
    ctx, params = call.ctx, call.params
    currency = currency_param(params)
    amount = money.check_amount(positive_amount(params), currency)
    intent = _payment_intent(ctx, call.book, amount, currency, metadata_param(params), params.get("description"))
    intent["transfer_group"] = params.get("transfer_group")
    ctx.emit(call.book, "payment_intent.created", intent)
    if params.get("confirm") and params.get("payment_method"):
        succeed_payment(ctx, call.book, intent, params["payment_method"])
    return render(call, intent)


@route("post", "/v1/payment_intents/{intent}/confirm")
def confirm_payment_intent(call: Call) -> dict[str, Any]:
    intent = require(call.book, call.path["intent"], "payment_intent", "payment_intent", "intent")
    if intent["status"] == "succeeded":
        raise StripeError("This PaymentIntent has already succeeded.", code="payment_intent_unexpected_state")
    succeed_payment(call.ctx, call.book, intent, call.params.get("payment_method") or "pm_card_visa")
    return render(call, intent)


def _charge_for(book: AccountBook, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("charge"):
        return require(book, params["charge"], "charge", "charge", "charge")
    intent_id = params.get("payment_intent")
    if not intent_id:
        raise StripeError("One of `charge` or `payment_intent` is required.", param="charge")
    intent = require(book, intent_id, "payment_intent", "payment_intent", "payment_intent")
    if not intent["latest_charge"]:
        raise StripeError(
            "This PaymentIntent does not have a successful charge to refund.",
            code="charge_not_refundable",
            param="payment_intent",
        )
    return book.objects[intent["latest_charge"]]


@route("post", "/v1/refunds")
def create_refund(call: Call) -> dict[str, Any]:
    ctx, params, book = call.ctx, call.params, call.book
    charge = _charge_for(book, params)
    refundable = charge["amount"] - charge["amount_refunded"]
    amount = positive_amount(params) if params.get("amount") is not None else refundable
    money.check_amount(amount, charge["currency"])
    if amount > refundable:
        raise StripeError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({refundable})",
            code="amount_too_large",
            param="amount",
        )
    refund_id = ctx.ids.new("re")
    txn = post_transaction(
        ctx,
        book,
        type="refund",
        amount=-amount,
        currency=charge["currency"],
        source=refund_id,
        description="REFUND FOR CHARGE",
    )
    refund = book.add(
        {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": txn["id"],
            "charge": charge["id"],
            "created": ctx.now(),
            "currency": charge["currency"],
            "metadata": metadata_param(params),
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            "status": "succeeded",
        }
    )
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    ctx.emit(book, "charge.refunded", charge, previous)
    ctx.emit(book, "refund.created", refund)
    return render(call, refund)


def open_dispute(ctx: Context, charge_or_intent_id: str, reason: str = "fraudulent") -> dict[str, Any]:
    """A cardholder disputes a platform charge (control API only, as in Stripe)."""
    book = ctx.store.platform
    key = "payment_intent" if charge_or_intent_id.startswith("pi_") else "charge"
    charge = _charge_for(book, {key: charge_or_intent_id})
    if charge["disputed"]:
        raise StripeError("This charge is already disputed.", code="charge_disputed")
    dispute_id = ctx.ids.new("dp")
    txn = post_transaction(
        ctx,
        book,
        type="adjustment",
        amount=-charge["amount"],
        currency=charge["currency"],
        source=dispute_id,
        fee=dispute_fee(charge["currency"]),
        description=f"Chargeback withdrawal for {charge['id']}",
    )
    dispute = book.add(
        {
            "id": dispute_id,
            "object": "dispute",
            "amount": charge["amount"],
            "balance_transactions": [public_copy(txn)],
            "charge": charge["id"],
            "created": ctx.now(),
            "currency": charge["currency"],
            "evidence": {},
            "evidence_details": {
                "due_by": ctx.now() + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }
    )
    charge["disputed"] = True
    ctx.emit(book, "charge.dispute.created", dispute)
    return dispute


readable("payment_intent", "/v1/payment_intents/{intent}", "/v1/payment_intents")
readable("charge", "/v1/charges/{charge}", "/v1/charges", "payment_intent", "transfer_group")
readable("refund", "/v1/refunds/{refund}", "/v1/refunds", "charge", "payment_intent")
readable("dispute", "/v1/disputes/{dispute}")
