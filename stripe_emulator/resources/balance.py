"""Balances and balance transactions — the only place money moves.

:func:`post_transaction` is the single write path: it records a
``balance_transaction`` (amount, fee, net = amount − fee, all integers) in a book.
Its ``available_on`` says when the net counts as *available*; until then it counts
as *pending* (``status: pending``). As on Stripe:

* a card charge is pending for the emulator's ``available_delay`` (2 days by default,
  on the emulator's clock); the "bypass pending" test card (platform funds) is not;
* refunds, dispute withdrawals, transfers and payouts take money out at once;
* a transfer tied to a charge (``source_transaction``) takes on that charge's
  ``available_on`` on both sides: it is pending wherever the charge still is.

:func:`mature` moves every transaction whose ``available_on`` has come from pending
to available; the emulator runs it before every operation, so balances always
reflect its clock. :func:`release` makes pending funds available now (a test's
"the days went by").
"""

from __future__ import annotations

from typing import Any

from ..state import AccountBook, Store
from .common import Call, Context, readable, route

DEFAULT_AVAILABLE_DELAY = 2 * 86_400  # seconds a card charge stays pending

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
    available_on: int | None = None,
) -> dict[str, Any]:
    """Record one balance transaction; its net is pending until ``available_on`` (default: now)."""
    now = ctx.now()
    available_on = now if available_on is None else max(now, available_on)
    pending = available_on > now
    fee_details = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    txn = book.add(
        {
            "id": ctx.ids.new("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": available_on,
            "created": now,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details,
            "net": amount - fee,
            "reporting_category": REPORTING_CATEGORY.get(type, "other_adjustment"),
            "source": source,
            "status": "pending" if pending else "available",
            "type": type,
        }
    )
    bucket = book.pending if pending else book.available
    bucket[currency] = bucket.get(currency, 0) + amount - fee
    if pending:
        book.maturing.append(txn["id"])
    return txn


def _make_available(book: AccountBook, txn: dict[str, Any]) -> None:
    currency, net = txn["currency"], txn["net"]
    book.pending[currency] = book.pending.get(currency, 0) - net
    book.available[currency] = book.available.get(currency, 0) + net
    txn["status"] = "available"


def mature(store: Store, now: int) -> int:
    """Make available every pending transaction whose ``available_on`` has come; returns how many."""
    moved = 0
    for book in store.books.values():
        if not book.maturing:
            continue
        still = []
        for txn_id in book.maturing:
            txn = book.objects[txn_id]
            if txn["available_on"] <= now:
                _make_available(book, txn)
                moved += 1
            else:
                still.append(txn_id)
        book.maturing = still
    return moved


def release(store: Store, now: int, account: str | None = None) -> int:
    """Pending funds become available now (all books, or one account's); returns how many."""
    books = [store.book(account)] if account else list(store.books.values())
    for book in books:
        for txn_id in book.maturing if book else ():
            book.objects[txn_id]["available_on"] = now
    return mature(store, now)


def available(book: AccountBook, currency: str) -> int:
    return book.available.get(currency, 0)


def balance_object(book: AccountBook) -> dict[str, Any]:
    currencies = sorted(set(book.available) | set(book.pending)) or ["usd"]
    return {
        "object": "balance",
        "available": [
            {"amount": book.available.get(c, 0), "currency": c, "source_types": {"card": book.available.get(c, 0)}}
            for c in currencies
        ],
        "pending": [
            {"amount": book.pending.get(c, 0), "currency": c, "source_types": {"card": book.pending.get(c, 0)}}
            for c in currencies
        ],
        "livemode": False,
    }


@route("get", "/v1/balance")
def retrieve_balance(call: Call) -> dict[str, Any]:
    return balance_object(call.book)


readable(
    "balance_transaction", "/v1/balance_transactions/{id}", "/v1/balance_transactions", "type", "currency", "source"
)
