"""Balances and balance transactions — the only place money moves.

:func:`post_transaction` is the single write path: it records a
``balance_transaction`` (amount, fee, net = amount − fee, all integers) in a book
and adds ``net`` to that book's *available* balance. Charges settle straight
into *available* (``available_on`` = ``created``), so a demo can pay a creator
right after a checkout; ``pending`` stays zero.
"""

from __future__ import annotations

from typing import Any

from ..state import AccountBook
from .common import Call, Context, readable, route

REPORTING_CATEGORY = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "adjustment": "dispute",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "payout": "payout",
}


def post_transaction(
    ctx: Context,
    book: AccountBook,
    *,
    type: str,
    amount: int,
    currency: str,
    source: str | None,
    fee: int = 0,
    description: str | None = None,
) -> dict[str, Any]:
    """Record one balance transaction and move its net into ``available``."""
    now = ctx.now()
    fee_details = (
        [{"amount": fee, "application": None, "currency": currency,
          "description": "Stripe processing fees", "type": "stripe_fee"}]
        if fee else []
    )
    txn = book.add({
        "id": ctx.ids.new("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now,
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": REPORTING_CATEGORY.get(type, "other_adjustment"),
        "source": source,
        "status": "available",
        "type": type,
    })
    book.available[currency] = book.available.get(currency, 0) + amount - fee
    return txn


def available(book: AccountBook, currency: str) -> int:
    return book.available.get(currency, 0)


def balance_object(book: AccountBook) -> dict[str, Any]:
    currencies = sorted(set(book.available) | set(book.pending)) or ["usd"]
    return {
        "object": "balance",
        "available": [{"amount": book.available.get(c, 0), "currency": c,
                       "source_types": {"card": book.available.get(c, 0)}} for c in currencies],
        "pending": [{"amount": book.pending.get(c, 0), "currency": c,
                     "source_types": {"card": book.pending.get(c, 0)}} for c in currencies],
        "livemode": False,
    }


@route("get", "/v1/balance")
def retrieve_balance(call: Call) -> dict[str, Any]:
    return balance_object(call.book)


readable("balance_transaction", "/v1/balance_transactions/{id}", "/v1/balance_transactions",
         "type", "currency", "source")
