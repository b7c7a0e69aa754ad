"""Payments: the :class:`~app.payments.gateway.PaymentGateway` interface and its factory.

``make_gateway(config)`` picks the backend from configuration keys:

``STRIPE_SECRET_KEY``      required; ``sk_test_…`` (the local emulator accepts only test keys)
``STRIPE_API_BASE``        when set, the URL of the local Stripe emulator (or any Stripe-compatible base)
``STRIPE_WEBHOOK_SECRET``  ``whsec_…``, to verify incoming webhooks
``STRIPE_MAX_NETWORK_RETRIES`` / ``STRIPE_TIMEOUT_SECONDS``  optional tuning

Importing this package is cheap: ``stripe`` is imported only inside
:func:`make_gateway`, by :mod:`app.payments.stripe_gateway`, the one module of the
project that imports it.
"""

from __future__ import annotations

from typing import Any, Mapping

from .gateway import (BalanceTransaction, ChargeInfo, CheckoutSession, ConnectedAccount,
                      GatewayAuthError, GatewayUnavailable, IdempotencyKeyReused,
                      InsufficientPlatformFunds, InvalidPaymentRequest, PaymentDeclined, PaymentError,
                      PaymentGateway, RateLimited, Refund, Transfer, TransferReversal, WebhookEvent,
                      WebhookSignatureError)

__all__ = [
    "BalanceTransaction", "ChargeInfo", "CheckoutSession", "ConnectedAccount", "GatewayAuthError",
    "GatewayUnavailable", "IdempotencyKeyReused", "InsufficientPlatformFunds", "InvalidPaymentRequest",
    "PaymentDeclined", "PaymentError", "PaymentGateway", "RateLimited", "Refund", "Transfer",
    "TransferReversal", "WebhookEvent", "WebhookSignatureError", "make_gateway",
]


def make_gateway(config: Mapping[str, Any]) -> PaymentGateway:
    """Build the configured gateway (today: Stripe, real or the local emulator)."""
    secret_key = config.get("STRIPE_SECRET_KEY")
    if not secret_key:
        raise GatewayAuthError("STRIPE_SECRET_KEY is not configured")
    from .stripe_gateway import StripeGateway  # the only place `stripe` gets imported

    options: dict[str, Any] = {}
    if config.get("STRIPE_MAX_NETWORK_RETRIES") is not None:
        options["max_network_retries"] = int(config["STRIPE_MAX_NETWORK_RETRIES"])
    if config.get("STRIPE_TIMEOUT_SECONDS") is not None:
        options["timeout"] = float(config["STRIPE_TIMEOUT_SECONDS"])
    return StripeGateway(
        str(secret_key),
        api_base=config.get("STRIPE_API_BASE") or None,
        webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or None,
        **options,
    )
