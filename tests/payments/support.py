"""Constants and a factory shared by the gateway tests and their fixtures."""

from __future__ import annotations

from app.payments.stripe_gateway import StripeGateway

TEST_KEY = "sk_test_gateway"
WEBHOOK_SECRET = "whsec_test_gateway_secret"


def gateway_for(url: str, **options) -> StripeGateway:
    """A StripeGateway aimed at ``url`` with the test key and webhook secret."""
    options.setdefault("webhook_secret", WEBHOOK_SECRET)
    options.setdefault("timeout", 5.0)
    return StripeGateway(TEST_KEY, api_base=url, **options)
