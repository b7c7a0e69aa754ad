"""Gateway errors as HTTP problems: the one place a Stripe failure becomes what a user sees.

A transient failure (Stripe down, rate limited) is a 503 "try again shortly"; anything
else Stripe refused is a 502.  Stripe's own message never reaches the page: it may name
internal ids, and it is logged where the gateway translated it.
"""

from __future__ import annotations

from app.errors import Problem

from .gateway import GatewayUnavailable, PaymentError, RateLimited


class PaymentProviderProblem(Problem):
    status = 502
    title = "Payment provider error"


def provider_problem(exc: PaymentError) -> Problem:
    if isinstance(exc, (GatewayUnavailable, RateLimited)):
        return Problem(
            "The payment provider is unavailable; try again shortly.", status=503, title="Payment provider unavailable"
        )
    return PaymentProviderProblem("The payment provider refused the request.")


class PaymentsUnavailable(Problem):
    """Payments are not configured on this server (no Stripe key): a 503 wherever they are needed."""

    status = 503
    title = "Payments unavailable"
