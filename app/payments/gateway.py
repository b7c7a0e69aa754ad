"""The project's one payment interface: :class:`PaymentGateway`.

Services talk to Stripe only through this protocol. What crosses it is the
project's own vocabulary — frozen dataclasses with money as an integer count of
minor units and currency as an UPPERCASE ISO 4217 code (Stripe's lowercase codes
are normalised at the boundary) — and the project's own errors:

========================  ==========================================================
PaymentError              base of everything below
PaymentDeclined           the card/payment was declined
InsufficientPlatformFunds the platform's *available* balance cannot cover a transfer
                          (Stripe's ``balance_insufficient``): card payments stay
                          pending for days before they become available, so this is
                          usually "not yet" — see ``retrieve_balance``
RateLimited               too many requests; retry later with the same key
GatewayUnavailable        5xx, timeout or network trouble; safe to retry with the
                          same idempotency key (the write may or may not have happened)
InvalidPaymentRequest     the request itself is wrong (bad param, unknown id, a currency
                          or amount Stripe cannot take, …)
PayoutDestinationRefused  (an InvalidPaymentRequest) the connected account cannot receive
                          transfers: ``reason`` is ``closed`` or ``rejected`` (permanent:
                          pay elsewhere) or ``restricted`` (its owner must complete
                          Stripe's requirements first)
IdempotencyKeyReused      an idempotency key was reused with different parameters
GatewayAuthError          bad or missing API key / no access to the account
WebhookSignatureError     a webhook whose signature is missing, forged or stale
========================  ==========================================================

Idempotency keys always come from the caller, derived from its own ids (e.g. a
payout item's id), so a retry after a crash repeats the same key.

Funds that are not available yet: ``retrieve_balance`` reports the platform's balance
per currency as Stripe does, ``available`` (what a transfer may draw on now) and
``pending`` (charges not settled yet).  Settlement pays an item only when the available
balance covers it, and holds the rest until it does (``awaiting_funds``).  Stripe's
other remedy, tying a transfer to the charge it pays out with ``source_transaction``,
needs one charge per transfer; a creator's payout sums many earnings (sales, metered
uses the platform fronts before the brand pays), so settlement does not use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


# -- errors -------------------------------------------------------------------------------
class PaymentError(Exception):
    """Base of the payment errors; ``param``/``code`` when the provider named them."""

    def __init__(
        self, message: str, *, code: str | None = None, param: str | None = None, http_status: int | None = None
    ):
        super().__init__(message)
        self.code = code
        self.param = param
        self.http_status = http_status


class PaymentDeclined(PaymentError):
    pass


class InsufficientPlatformFunds(PaymentError):
    pass


class RateLimited(PaymentError):
    pass


class GatewayUnavailable(PaymentError):
    """Transient: retry with the same idempotency key."""


class InvalidPaymentRequest(PaymentError):
    pass


class PayoutDestinationRefused(InvalidPaymentRequest):
    """A transfer's destination account refuses money: ``closed``, ``rejected`` or ``restricted``."""

    REASONS = ("closed", "rejected", "restricted")

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        code: str | None = None,
        param: str | None = None,
        http_status: int | None = None,
    ):
        if reason not in self.REASONS:
            raise ValueError(f"reason must be one of {self.REASONS}")
        super().__init__(message, code=code, param=param, http_status=http_status)
        self.reason = reason

    @property
    def permanent(self) -> bool:
        """True when no action of the account's owner makes it payable again."""
        return self.reason != "restricted"


class IdempotencyKeyReused(PaymentError):
    pass


class GatewayAuthError(PaymentError):
    pass


class WebhookSignatureError(PaymentError):
    pass


# -- values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: tuple[str, ...] = ()
    email: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str | None  # open | complete | expired
    payment_status: str  # unpaid | paid | no_payment_required
    payment_intent_id: str | None
    amount_total: int | None
    currency: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    client_reference_id: str | None = None
    success_url: str | None = None  # where the payer goes after paying / giving up
    cancel_url: str | None = None


@dataclass(frozen=True)
class ChargeInfo:
    id: str
    payment_intent_id: str | None
    amount: int
    currency: str
    fee: int
    net: int
    balance_transaction_id: str | None
    amount_refunded: int


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    currency: str
    destination: str
    transfer_group: str | None
    amount_reversed: int
    reversed: bool
    metadata: Mapping[str, str]
    created: datetime


@dataclass(frozen=True)
class TransferReversal:
    id: str
    transfer_id: str
    amount: int
    currency: str
    created: datetime


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    charge_id: str | None
    payment_intent_id: str | None
    status: str | None


@dataclass(frozen=True)
class BalanceTransaction:
    id: str
    type: str
    amount: int
    fee: int
    net: int
    currency: str
    source: str | None
    created: datetime


@dataclass(frozen=True)
class PlatformBalance:
    """The platform's Stripe balance per currency: ``available`` now, and ``pending``."""

    available: Mapping[str, int]
    pending: Mapping[str, int]

    def available_in(self, currency: str) -> int:
        return int(self.available.get(currency, 0))

    def pending_in(self, currency: str) -> int:
        return int(self.pending.get(currency, 0))


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: datetime
    account: str | None  # the connected account, for Connect events
    livemode: bool
    data_object: Mapping[str, Any]
    previous_attributes: Mapping[str, Any] | None = None


# -- the interface --------------------------------------------------------------------------
@runtime_checkable
class PaymentGateway(Protocol):
    """What the marketplace needs from a payment provider (Stripe Connect, separate
    charges and transfers). Every write takes the caller's idempotency key."""

    def create_connected_account(
        self, *, email: str, country: str, idempotency_key: str, metadata: Mapping[str, str] | None = None
    ) -> ConnectedAccount: ...

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str: ...

    def retrieve_account(self, account_id: str) -> ConnectedAccount: ...

    def create_checkout_session(
        self,
        *,
        amount: int,
        currency: str,
        product_name: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        client_reference_id: str | None = None,
    ) -> CheckoutSession: ...

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession: ...

    def retrieve_charge(self, *, charge_id: str | None = None, payment_intent_id: str | None = None) -> ChargeInfo: ...

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        idempotency_key: str,
        transfer_group: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Transfer: ...

    def reverse_transfer(
        self, transfer_id: str, *, idempotency_key: str, amount: int | None = None
    ) -> TransferReversal: ...

    def list_transfers(
        self,
        *,
        transfer_group: str | None = None,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
    ) -> Iterator[Transfer]: ...

    def list_balance_transactions(
        self, *, created_gte: datetime, created_lt: datetime, type: str | None = None
    ) -> Iterator[BalanceTransaction]: ...

    def retrieve_balance(self) -> PlatformBalance: ...

    def refund(self, payment_intent_id: str, *, idempotency_key: str, amount: int | None = None) -> Refund: ...

    def parse_webhook(self, payload: bytes, signature_header: str, now: datetime) -> WebhookEvent: ...
