"""The payment backend, chosen by configuration (Warehouse style): one interface,
``PaymentGateway``, that the real Stripe gateway satisfies — against Stripe itself or
the local Stripe emulator, the same code either way.

``STRIPE_SECRET_KEY``      required; ``sk_test_…`` (the local emulator accepts only test keys)
``STRIPE_API_BASE``        when set, the URL of the local Stripe emulator (or any Stripe-compatible base)
``STRIPE_WEBHOOK_SECRET``  ``whsec_…``, to verify incoming webhooks
``STRIPE_MAX_NETWORK_RETRIES`` / ``STRIPE_TIMEOUT_SECONDS``  optional tuning
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .gateway import GatewayAuthError, PaymentGateway


def make_gateway(config: Mapping[str, Any]) -> PaymentGateway:
    """Build the configured gateway; ``GatewayAuthError`` when payments are not configured."""
    secret_key = config.get("STRIPE_SECRET_KEY")
    if not secret_key:
        raise GatewayAuthError("STRIPE_SECRET_KEY is not configured")
    # Imported here, not at the top: the Stripe SDK is loaded only when a gateway is built
    # (stripe_gateway is the one module of the project that imports it).
    from .stripe_gateway import StripeGateway

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
