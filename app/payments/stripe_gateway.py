"""`StripeGateway`: the :class:`~app.payments.gateway.PaymentGateway` over Stripe.

The only module in the project that imports ``stripe``. It uses the SDK's
``StripeClient`` (stripe-python ≥ 11, tested with 16.x):

* ``base_addresses`` points ``api`` (and ``connect``/``files``/``meter_events``)
  at the local emulator when ``api_base`` is given;
* ``max_network_retries`` makes the SDK retry connection errors, timeouts, 409,
  5xx and any response with ``Stripe-Should-Retry: true`` (e.g. 429) with
  exponential backoff — re-sending the *same* ``Idempotency-Key``, so a retried
  write happens once;
* ``http_client=stripe.RequestsClient(timeout=…)`` bounds each attempt.

* ``stripe_version`` pins the API version to :data:`STRIPE_API_VERSION`, the version
  of the OpenAPI spec the emulator checks against, on every request — the SDK's own
  default moves with each SDK release, the shapes this module reads do not.

Every SDK error is translated into the project's errors in :func:`_translated`,
and every SDK object into a frozen dataclass — nothing from ``stripe`` leaks out.
Amounts cross in ledger minor units (ISO 4217) and are converted to and from
Stripe's own units here, on every request and response, by
:mod:`app.payments.stripe_currencies` (ISK, UGX and MGA differ; an amount Stripe
cannot take is an :class:`InvalidPaymentRequest` before anything is sent).
Webhook signatures are checked by the SDK (``stripe.WebhookSignature``); the
timestamp window is checked here against the ``now`` the caller passes, in both
directions: older than ``tolerance`` seconds is a replay, newer is a forged or
badly skewed clock.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

import stripe

from .gateway import (
    BalanceTransaction,
    ChargeInfo,
    CheckoutSession,
    ConnectedAccount,
    GatewayAuthError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InsufficientPlatformFunds,
    InvalidPaymentRequest,
    PaymentDeclined,
    PaymentError,
    PayoutDestinationRefused,
    PlatformBalance,
    RateLimited,
    Refund,
    Transfer,
    TransferReversal,
    WebhookEvent,
    WebhookSignatureError,
)
from .stripe_currencies import StripeAmountError, check_charge_currency, to_ledger_units, to_stripe_amount

STRIPE_API_VERSION = "2024-04-10"  # the version of the spec in ../shared/stripe/ the emulator checks
DEFAULT_TIMEOUT_SECONDS = 30.0
WEBHOOK_TOLERANCE_SECONDS = 300
PAGE_SIZE = 100


class StripeGateway:
    """Stripe Connect (separate charges and transfers) behind the project's interface."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        webhook_secret: str | None = None,
        max_network_retries: int = 3,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        webhook_tolerance: int = WEBHOOK_TOLERANCE_SECONDS,
    ):
        base = api_base.rstrip("/") if api_base else None
        self._http = stripe.RequestsClient(timeout=timeout)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": base, "connect": base, "files": base, "meter_events": base} if base else None,
            max_network_retries=max_network_retries,
            http_client=self._http,
            stripe_version=STRIPE_API_VERSION,
        )
        self.webhook_secret = webhook_secret
        self.webhook_tolerance = webhook_tolerance
        self.api_base = base

    @property
    def client(self) -> stripe.StripeClient:
        """The SDK client, for this module's tests; services never touch it."""
        return self._client

    def close(self) -> None:
        self._http.close()

    # -- Connect --------------------------------------------------------------------------
    def create_connected_account(
        self, *, email: str, country: str, idempotency_key: str, metadata: Mapping[str, str] | None = None
    ) -> ConnectedAccount:
        params: stripe.params.AccountCreateParams = {
            "type": "express",
            "email": email,
            "country": country.upper(),
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "metadata": dict(metadata or {}),
        }
        with _translated():
            account = self._client.v1.accounts.create(params=params, options=_key(idempotency_key))
        return _account(_data(account))

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        params: stripe.params.AccountLinkCreateParams = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        with _translated():
            return _data(self._client.v1.account_links.create(params=params))["url"]

    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        with _translated():
            return _account(_data(self._client.v1.accounts.retrieve(account_id)))

    # -- money in ---------------------------------------------------------------------------
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
    ) -> CheckoutSession:
        metadata = dict(metadata or {})
        with _translated():
            price: stripe.params.checkout.SessionCreateParamsLineItemPriceData = {
                "currency": _to_stripe_currency(currency),
                "unit_amount": to_stripe_amount(amount, currency),
                "product_data": {"name": product_name},
            }
        params: stripe.params.checkout.SessionCreateParams = {
            "mode": "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if client_reference_id:
            params["client_reference_id"] = client_reference_id
        with _translated():
            session = self._client.v1.checkout.sessions.create(params=params, options=_key(idempotency_key))
            return _session(_ledger_data(session))

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        with _translated():
            return _session(_ledger_data(self._client.v1.checkout.sessions.retrieve(session_id)))

    def retrieve_charge(self, *, charge_id: str | None = None, payment_intent_id: str | None = None) -> ChargeInfo:
        if (charge_id is None) == (payment_intent_id is None):
            raise ValueError("give exactly one of charge_id or payment_intent_id")
        with _translated():
            if charge_id is None:
                intent = _data(self._client.v1.payment_intents.retrieve(payment_intent_id or ""))
                charge_id = _id(intent["latest_charge"])
                if charge_id is None:
                    raise InvalidPaymentRequest(
                        f"payment intent {payment_intent_id} has no charge yet", code="no_charge"
                    )
            charge = _ledger_data(
                self._client.v1.charges.retrieve(charge_id, params={"expand": ["balance_transaction"]})
            )
        txn = charge.get("balance_transaction")
        expanded = txn if isinstance(txn, dict) else None
        fee = int(expanded["fee"]) if expanded is not None else 0
        return ChargeInfo(
            id=charge["id"],
            payment_intent_id=_id(charge.get("payment_intent")),
            amount=int(charge["amount"]),
            currency=_from_stripe_currency(charge["currency"]),
            fee=fee,
            net=int(expanded["net"]) if expanded is not None else int(charge["amount"]) - fee,
            balance_transaction_id=_id(txn),
            amount_refunded=int(charge["amount_refunded"]),
        )

    def refund(self, payment_intent_id: str, *, idempotency_key: str, amount: int | None = None) -> Refund:
        params: stripe.params.RefundCreateParams = {"payment_intent": payment_intent_id}
        with _translated():
            if amount is not None:  # Stripe's unit depends on the currency, which the intent knows
                intent = _data(self._client.v1.payment_intents.retrieve(payment_intent_id))
                params["amount"] = to_stripe_amount(_amount(amount), intent["currency"])
            refund = _ledger_data(self._client.v1.refunds.create(params=params, options=_key(idempotency_key)))
        return Refund(
            id=refund["id"],
            amount=int(refund["amount"]),
            currency=_from_stripe_currency(refund["currency"]),
            charge_id=_id(refund.get("charge")),
            payment_intent_id=_id(refund.get("payment_intent")),
            status=refund.get("status"),
        )

    # -- money out --------------------------------------------------------------------------
    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        idempotency_key: str,
        transfer_group: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Transfer:
        with _translated():
            params: stripe.params.TransferCreateParams = {
                "amount": to_stripe_amount(_amount(amount), currency),
                "currency": _to_stripe_currency(currency),
                "destination": destination,
                "metadata": dict(metadata or {}),
            }
        if transfer_group:
            params["transfer_group"] = transfer_group
        with _translated():
            transfer = self._client.v1.transfers.create(params=params, options=_key(idempotency_key))
            return _transfer(_ledger_data(transfer))

    def reverse_transfer(
        self, transfer_id: str, *, idempotency_key: str, amount: int | None = None
    ) -> TransferReversal:
        params: stripe.params.TransferReversalCreateParams = {}
        with _translated():
            if amount is not None:  # Stripe's unit depends on the currency, which the transfer knows
                transfer = _data(self._client.v1.transfers.retrieve(transfer_id))
                params["amount"] = to_stripe_amount(_amount(amount), transfer["currency"])
            reversal = _ledger_data(
                self._client.v1.transfers.reversals.create(transfer_id, params=params, options=_key(idempotency_key))
            )
        return TransferReversal(
            id=reversal["id"],
            transfer_id=_id(reversal["transfer"]) or transfer_id,
            amount=int(reversal["amount"]),
            currency=_from_stripe_currency(reversal["currency"]),
            created=_time(reversal["created"]),
        )

    def list_transfers(
        self,
        *,
        transfer_group: str | None = None,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
    ) -> Iterator[Transfer]:
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if transfer_group:
            params["transfer_group"] = transfer_group
        created = _created_range(created_gte, created_lt)
        if created:
            params["created"] = created
        return self._paginate(self._client.v1.transfers.list, params, _transfer)

    def list_balance_transactions(
        self, *, created_gte: datetime, created_lt: datetime, type: str | None = None
    ) -> Iterator[BalanceTransaction]:
        params: dict[str, Any] = {"limit": PAGE_SIZE, "created": _created_range(created_gte, created_lt)}
        if type:
            params["type"] = type
        return self._paginate(self._client.v1.balance_transactions.list, params, _balance_transaction)

    def retrieve_balance(self) -> PlatformBalance:
        with _translated():
            balance = _ledger_data(self._client.v1.balance.retrieve())

        def per_currency(funds: list[dict[str, Any]] | None) -> dict[str, int]:
            totals: dict[str, int] = {}
            for fund in funds or ():
                currency = _from_stripe_currency(fund.get("currency"))
                totals[currency] = totals.get(currency, 0) + int(fund.get("amount") or 0)
            return totals

        return PlatformBalance(per_currency(balance.get("available")), per_currency(balance.get("pending")))

    def _paginate(self, list_method, params: dict[str, Any], convert) -> Iterator[Any]:
        """Auto-paginate lazily; errors raised mid-way are translated too."""
        with _translated():
            pages = list_method(params=params).auto_paging_iter()
            for item in pages:
                yield convert(_ledger_data(item))

    # -- webhooks -----------------------------------------------------------------------------
    def parse_webhook(self, payload: bytes, signature_header: str, now: datetime) -> WebhookEvent:
        if not self.webhook_secret:
            raise WebhookSignatureError("no webhook signing secret configured")
        verify_signature(payload, signature_header, self.webhook_secret, now, self.webhook_tolerance)
        try:
            event = json.loads(payload)
            data = event["data"]
            data_object = to_ledger_units(data["object"])
            previous = data.get("previous_attributes")
            currency = data["object"].get("currency")
            if previous is not None and isinstance(currency, str):
                # a changed amount is in the object's currency: the object names it, the diff does not
                converted = to_ledger_units({"currency": currency, **previous})
                previous = {key: converted[key] for key in previous}
            return WebhookEvent(
                id=event["id"],
                type=event["type"],
                created=_time(event["created"]),
                account=event.get("account"),
                livemode=bool(event.get("livemode")),
                data_object=data_object,
                previous_attributes=previous,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # StripeAmountError too
            raise WebhookSignatureError(f"signed payload is not a Stripe event we can read: {exc}") from exc


def verify_signature(
    payload: bytes, header: str, secret: str, now: datetime, tolerance: int = WEBHOOK_TOLERANCE_SECONDS
) -> int:
    """Check a ``Stripe-Signature`` header; returns its timestamp or raises WebhookSignatureError.

    The SDK checks the HMAC (any ``v1`` signature may match); the time window is checked
    here against ``now``, because the SDK would read the machine's clock and only look back.
    """
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureError(f"webhook signature refused: {exc.user_message or exc}") from None
    except UnicodeDecodeError:
        raise WebhookSignatureError("webhook payload is not UTF-8 text") from None
    timestamp = _signed_at(header)
    skew = _epoch(now) - timestamp
    if skew > tolerance:
        raise WebhookSignatureError(
            f"timestamp is {skew} s old (tolerance {tolerance} s): a replay, or a delivery held too long"
        )
    if -skew > tolerance:
        raise WebhookSignatureError(
            f"timestamp is {-skew} s in the future (tolerance {tolerance} s): a forged header or a badly skewed clock"
        )
    return timestamp


def _signed_at(header: str) -> int:
    """The ``t=`` of a header the SDK has verified (its first ``t``, as the SDK reads it)."""
    return int(next(part.split("=", 1)[1] for part in header.split(",") if part.split("=", 1)[0] == "t"))


# -- translation ------------------------------------------------------------------------------
@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Turn every ``stripe`` exception, and every amount Stripe cannot take, into the project's own."""
    try:
        yield
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    except StripeAmountError as exc:
        raise InvalidPaymentRequest(str(exc), code=exc.code, param=exc.param) from exc


class _ErrorDetails(TypedDict):
    code: str | None
    param: str | None
    http_status: int | None


def _translate(exc: stripe.StripeError) -> PaymentError:
    body = getattr(exc, "error", None)
    code = getattr(exc, "code", None) or (body.code if body is not None else None)
    param = getattr(exc, "param", None)
    details: _ErrorDetails = {"code": code, "param": param, "http_status": exc.http_status}
    message = exc.user_message or str(exc)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyKeyReused(message, **details)
    if isinstance(exc, stripe.CardError):
        return PaymentDeclined(message, **details)
    if isinstance(exc, stripe.RateLimitError):
        return RateLimited(message, **details)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return GatewayAuthError(message, **details)
    if isinstance(exc, stripe.InvalidRequestError):
        if code == "balance_insufficient":
            return InsufficientPlatformFunds(message, **details)
        if code in REFUSING_DESTINATION:
            return PayoutDestinationRefused(message, reason=REFUSING_DESTINATION[code], **details)
        return InvalidPaymentRequest(message, **details)
    if isinstance(exc, (stripe.APIConnectionError, stripe.APIError)):
        return GatewayUnavailable(message, **details)
    if isinstance(exc, stripe.SignatureVerificationError):
        return WebhookSignatureError(message, **details)
    if exc.http_status is not None and exc.http_status >= 500:
        return GatewayUnavailable(message, **details)
    return PaymentError(message, **details)


# Stripe's answers to a transfer whose destination cannot take it (see the emulator's README)
REFUSING_DESTINATION = {
    "account_invalid": "closed",
    "transfers_not_allowed": "rejected",
    "insufficient_capabilities_for_transfer": "restricted",
}


def _key(idempotency_key: str) -> stripe.RequestOptions:
    if not idempotency_key:
        raise ValueError("an idempotency key derived from the caller's own ids is required")
    return {"idempotency_key": idempotency_key}


def _amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts are integers of minor units")
    return amount


def _to_stripe_currency(currency: str) -> str:
    return check_charge_currency(currency).lower()


def _from_stripe_currency(currency: str | None) -> str:
    return (currency or "").upper()


def _id(value: Any) -> str | None:
    """An expandable field's id, whether it came back expanded or not."""
    if value is None or isinstance(value, str):
        return value
    return value["id"]


def _data(sdk_object: Any) -> dict[str, Any]:
    """The SDK object's plain data, in Stripe's units: nothing from ``stripe`` goes further than this."""
    return sdk_object.to_dict()


def _ledger_data(sdk_object: Any) -> dict[str, Any]:
    """The SDK object's plain data with its amounts in ledger minor units."""
    return to_ledger_units(_data(sdk_object))


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _created_range(gte: datetime | None, lt: datetime | None) -> dict[str, int]:
    created = {}
    if gte is not None:
        created["gte"] = _epoch(gte)
    if lt is not None:
        created["lt"] = _epoch(lt)
    return created


def _account(account: dict[str, Any]) -> ConnectedAccount:
    requirements = account.get("requirements") or {}
    return ConnectedAccount(
        id=account["id"],
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        requirements_due=tuple(requirements.get("currently_due") or ()),
        email=account.get("email"),
        country=account.get("country"),
    )


def _session(session: dict[str, Any]) -> CheckoutSession:
    return CheckoutSession(
        id=session["id"],
        url=session.get("url"),
        status=session.get("status"),
        payment_status=session["payment_status"],
        payment_intent_id=_id(session.get("payment_intent")),
        amount_total=session.get("amount_total"),
        currency=_from_stripe_currency(session.get("currency")) or None,
        metadata=dict(session.get("metadata") or {}),
        client_reference_id=session.get("client_reference_id"),
        success_url=session.get("success_url"),
        cancel_url=session.get("cancel_url"),
    )


def _transfer(transfer: dict[str, Any]) -> Transfer:
    return Transfer(
        id=transfer["id"],
        amount=int(transfer["amount"]),
        currency=_from_stripe_currency(transfer["currency"]),
        destination=_id(transfer.get("destination")) or "",
        transfer_group=transfer.get("transfer_group"),
        amount_reversed=int(transfer["amount_reversed"]),
        reversed=bool(transfer["reversed"]),
        metadata=dict(transfer.get("metadata") or {}),
        created=_time(transfer["created"]),
    )


def _balance_transaction(txn: dict[str, Any]) -> BalanceTransaction:
    return BalanceTransaction(
        id=txn["id"],
        type=txn["type"],
        amount=int(txn["amount"]),
        fee=int(txn["fee"]),
        net=int(txn["net"]),
        currency=_from_stripe_currency(txn["currency"]),
        source=_id(txn.get("source")),
        created=_time(txn["created"]),
    )
