"""Checkout sessions (``mode=payment``) and their emulator-hosted Pay page.

A session is created ``open``/``unpaid`` with no payment intent (Stripe creates
it lazily since 2022-08-01). Its ``url`` is the emulator page
``/_emulator/checkout/<cs_id>``; pressing Pay there (or the control API's
``pay``) runs :func:`pay_checkout_session`: a payment intent carrying
``payment_intent_data[metadata]`` succeeds, the session becomes
``complete``/``paid`` and ``checkout.session.completed`` is emitted.
"""

from __future__ import annotations

from typing import Any

from .. import money
from ..errors import StripeError
from .common import Call, Context, metadata_param, readable, render, require, route
from .payments import create_paid_intent

SESSION_LIFETIME_SECONDS = 24 * 3600


def _line_total(items: list[dict[str, Any]]) -> tuple[int, str]:
    total, currencies = 0, set()
    for index, item in enumerate(items):
        price = item.get("price_data")
        if not price:
            raise StripeError(
                "The emulator supports line_items with price_data only.", param=f"line_items[{index}][price_data]"
            )
        total += int(price["unit_amount"]) * int(item.get("quantity", 1))
        currencies.add(money.currency(price["currency"], f"line_items[{index}][price_data][currency]"))
    if len(currencies) != 1:
        raise StripeError("All line items must share one currency.", param="line_items")
    currency = currencies.pop()
    return money.check_amount(total, currency, param="line_items[0][price_data][unit_amount]"), currency


@route("post", "/v1/checkout/sessions")
def create_session(call: Call) -> dict[str, Any]:
    ctx, params = call.ctx, call.params
    if params.get("mode") != "payment":
        raise StripeError("The emulator supports mode=payment only.", param="mode")
    items = params.get("line_items") or []
    amount, currency = _line_total(items)
    session_id = ctx.ids.new("cs_test")
    intent_data = params.get("payment_intent_data") or {}
    session = call.book.add(
        {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": ctx.now(),
            "currency": currency,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer_email": params.get("customer_email"),
            "expires_at": ctx.now() + SESSION_LIFETIME_SECONDS,
            "livemode": False,
            "metadata": metadata_param(params),
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "shipping_options": [],
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"{ctx.base_url}/_emulator/checkout/{session_id}",
            "_product_names": [i["price_data"].get("product_data", {}).get("name") for i in items],
            "_intent_metadata": metadata_param(intent_data),
            "_description": intent_data.get("description"),
        }
    )
    return render(call, session)


def pay_checkout_session(ctx: Context, session_id: str) -> dict[str, Any]:
    """The buyer pays: intent + charge succeed, session completes, event emitted."""
    book = ctx.store.platform
    session = require(book, session_id, "checkout.session", "checkout.session", "session")
    if session["status"] != "open":
        raise StripeError(
            f"Checkout session {session_id} is {session['status']}, not open.", code="checkout_session_not_open"
        )
    intent = create_paid_intent(
        ctx,
        book,
        session["amount_total"],
        session["currency"],
        dict(session["_intent_metadata"]),
        session["_description"],
    )
    previous = {"status": "open", "payment_status": "unpaid", "payment_intent": None}
    session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
    ctx.emit(book, "checkout.session.completed", session, previous)
    return session


readable("checkout.session", "/v1/checkout/sessions/{session}", "/v1/checkout/sessions", "payment_intent")
