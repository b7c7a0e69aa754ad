"""Transfers (platform → connected account), their reversals, and payouts.

A transfer needs the destination's ``transfers`` capability active (onboarding
complete) and enough *available* platform balance in the currency — otherwise
Stripe's ``balance_insufficient`` (HTTP 400). It books ``transfer`` −amount on
the platform and ``payment`` +amount on the connected account.

With ``source_transaction`` (a platform charge) Stripe's rules apply: the currency
must be the charge's; the transfers tied to one charge may add up to its amount and
no more; while the charge's funds are pending the transfer succeeds whatever the
available balance, and both sides take on the charge's ``available_on`` (pending
until the charge is); the transfer gets the charge's ``transfer_group`` (or
``group_<payment intent>``, which the charge then gets too). A reversal
(partial or full, never beyond what is left) books the mirror image:
``transfer_refund`` +amount on the platform, ``payment_refund`` −amount on the
connected account. A payout takes a book's available balance to its bank and is
``paid`` at once.
"""

from __future__ import annotations

from typing import Any

from .. import money
from ..errors import StripeError
from .accounts import transfer_destination
from .balance import available, post_transaction
from .common import Call, currency_param, list_page, metadata_param, positive_amount, readable, render, require, route


def _insufficient(currency: str) -> StripeError:
    return StripeError(
        "You have insufficient available funds in your Stripe account. Try adding funds "
        f"directly to your available balance by creating Charges using the 4000000000000077 "
        f"test card. ({currency})",
        code="balance_insufficient",
    )


@route("post", "/v1/transfers")
def create_transfer(call: Call) -> dict[str, Any]:
    ctx, params, platform = call.ctx, call.params, call.book
    currency = currency_param(params)
    amount = money.check_amount(positive_amount(params), currency, "transfer")
    destination = transfer_destination(ctx, params["destination"])
    source = _source_charge(call, amount, currency)
    funds_on = platform.objects[source["balance_transaction"]]["available_on"] if source else None
    if (funds_on is None or funds_on <= ctx.now()) and available(platform, currency) < amount:
        raise _insufficient(currency)
    transfer_group = params.get("transfer_group")
    if source is not None:
        source["_transferred"] = source.get("_transferred", 0) + amount
        source["transfer_group"] = source["transfer_group"] or f"group_{source['payment_intent']}"
        transfer_group = transfer_group or source["transfer_group"]
    transfer_id = ctx.ids.new("tr")
    payment_id = ctx.ids.new("py")
    txn = post_transaction(
        ctx,
        platform,
        type="transfer",
        amount=-amount,
        currency=currency,
        source=transfer_id,
        description=params.get("description"),
        available_on=funds_on,
    )
    post_transaction(
        ctx,
        ctx.store.open_book(destination["id"]),
        type="payment",
        amount=amount,
        currency=currency,
        source=payment_id,
        available_on=funds_on,
    )
    transfer = platform.add(
        {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": txn["id"],
            "created": ctx.now(),
            "currency": currency,
            "description": params.get("description"),
            "destination": destination["id"],
            "destination_payment": payment_id,
            "livemode": False,
            "metadata": metadata_param(params),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": source["id"] if source else None,
            "source_type": "card",
            "transfer_group": transfer_group,
        }
    )
    ctx.emit(platform, "transfer.created", transfer)
    return render(call, transfer)


def _source_charge(call: Call, amount: int, currency: str) -> dict[str, Any] | None:
    """The platform charge named by ``source_transaction``, checked against Stripe's rules."""
    charge_id = call.params.get("source_transaction")
    if not charge_id:
        return None
    charge = call.book.get(charge_id, "charge")
    if charge is None:
        raise StripeError(
            f"No such charge: '{charge_id}'", status=404, code="resource_missing", param="source_transaction"
        )
    if charge["currency"] != currency:
        raise StripeError(
            f"The currency of source_transaction {charge_id} ({charge['currency']}) must "
            f"match the currency of the transfer ({currency}).",
            param="currency",
        )
    left = charge["amount"] - charge.get("_transferred", 0)
    if amount > left:
        raise StripeError(
            f"Transfers from source_transaction {charge_id} may add up to the charge's "
            f"amount ({charge['amount']}); {left} is left, {amount} was asked.",
            code="amount_too_large",
            param="amount",
        )
    return charge


@route("post", "/v1/transfers/{id}/reversals")
def create_reversal(call: Call) -> dict[str, Any]:
    ctx, params, platform = call.ctx, call.params, call.book
    transfer = require(platform, call.path["id"], "transfer", "transfer")
    remaining = transfer["amount"] - transfer["amount_reversed"]
    amount = positive_amount(params) if params.get("amount") is not None else remaining
    money.check_amount(amount, transfer["currency"], "transfer")
    if remaining == 0:
        raise StripeError(
            f"Transfer {transfer['id']} has already been fully reversed.", code="transfer_already_reversed"
        )
    if amount > remaining:
        raise StripeError(
            f"You cannot reverse more than the remaining {remaining} of this transfer.",
            code="amount_too_large",
            param="amount",
        )
    reversal_id, currency = ctx.ids.new("trr"), transfer["currency"]
    txn = post_transaction(ctx, platform, type="transfer_refund", amount=amount, currency=currency, source=reversal_id)
    post_transaction(
        ctx,
        ctx.store.open_book(transfer["destination"]),
        type="payment_refund",
        amount=-amount,
        currency=currency,
        source=transfer["destination_payment"],
    )
    reversal = platform.add(
        {
            "id": reversal_id,
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": txn["id"],
            "created": ctx.now(),
            "currency": currency,
            "destination_payment_refund": None,
            "metadata": metadata_param(params),
            "source_refund": None,
            "transfer": transfer["id"],
        }
    )
    previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
    transfer["reversals"]["data"].insert(0, reversal)
    ctx.emit(platform, "transfer.reversed", transfer, previous)
    return render(call, reversal)


@route("get", "/v1/transfers/{id}/reversals")
def list_reversals(call: Call) -> dict[str, Any]:
    transfer = require(call.book, call.path["id"], "transfer", "transfer")
    reversals = transfer["reversals"]["data"]
    return render(call, list_page(call, reversals, f"/v1/transfers/{transfer['id']}/reversals"))


@route("post", "/v1/payouts")
def create_payout(call: Call) -> dict[str, Any]:
    ctx, params, book = call.ctx, call.params, call.book
    currency = currency_param(params)
    amount = money.check_amount(positive_amount(params), currency, "payout")
    if available(book, currency) < amount:
        raise _insufficient(currency)
    payout_id = ctx.ids.new("po")
    txn = post_transaction(
        ctx,
        book,
        type="payout",
        amount=-amount,
        currency=currency,
        source=payout_id,
        description=params.get("description"),
    )
    payout = book.add(
        {
            "id": payout_id,
            "object": "payout",
            "amount": amount,
            "arrival_date": ctx.now(),
            "automatic": False,
            "balance_transaction": txn["id"],
            "created": ctx.now(),
            "currency": currency,
            "description": params.get("description"),
            "livemode": False,
            "metadata": metadata_param(params),
            "method": params.get("method") or "standard",
            "reconciliation_status": "not_applicable",
            "source_type": "card",
            "statement_descriptor": params.get("statement_descriptor"),
            "status": "pending",
            "type": "bank_account",
        }
    )
    ctx.emit(book, "payout.created", payout)
    payout["status"] = "paid"
    ctx.emit(book, "payout.paid", payout, {"status": "pending"})
    return render(call, payout)


readable("transfer", "/v1/transfers/{transfer}", "/v1/transfers", "destination", "transfer_group")
readable("payout", "/v1/payouts/{payout}", "/v1/payouts", "status")
