"""/api/v1 payment routes (bearer tokens, problem+json errors, ``app.kit.api``):
``POST /licences/<id>/checkout``, ``GET /me/payouts``."""

from __future__ import annotations

from typing import Annotated, Optional

from flask_openapi3 import Tag
from pydantic import AfterValidator, BaseModel, Field

from app.kit.api import api_blueprint, authenticate, call
from app.kit.registry import provided
from app.kit.web import now
from app.marketplace.api_models import LicencePath
from app.validation import Strict, Text

from .connect import PayoutsPanel, payouts_panel
from .gateway import PaymentGateway
from .licence_payments import CheckoutStarted, start_licence_checkout

payments_api = api_blueprint("api_v1_payments", __name__, problems=(502, 503))
payments_api.before_request(authenticate)
T_PAY = Tag(name="payments")


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value.split("://", 1)[1].strip("/")) == 0:
        raise ValueError("must be an absolute http(s) URL")
    if any(c.isspace() for c in value):
        raise ValueError("must not contain whitespace")
    return value


Url = Annotated[str, Text(2000, min_length=8), AfterValidator(_http_url)]


class CheckoutIn(Strict):
    success_url: Url = Field(description="where Stripe sends the payer after paying")
    cancel_url: Url = Field(description="where Stripe sends the payer who gives up")


class CheckoutOut(BaseModel):
    licence_id: int
    checkout_session_id: str
    url: Optional[str]
    amount_minor: int
    currency: str


def checkout_out(started: CheckoutStarted) -> dict:
    return CheckoutOut(
        licence_id=started.licence_id,
        checkout_session_id=started.checkout_session_id,
        url=started.url,
        amount_minor=started.amount,
        currency=started.currency,
    ).model_dump()


@payments_api.post("/licences/<int:licence_id>/checkout", tags=[T_PAY], responses={201: CheckoutOut})
def licence_checkout(path: LicencePath, body: CheckoutIn):
    """Start paying a signed licence's upfront fee (the licensee brand): returns the Stripe Checkout URL.
    Asking again while the session is open returns the same session."""
    gateway = provided(PaymentGateway)
    return call(
        lambda uow, actor: start_licence_checkout(
            uow, actor, now(), path.licence_id, gateway, body.success_url, body.cancel_url
        ),
        render=lambda _uow, started: checkout_out(started),
        http_status=201,
        write=True,
    )


class PayoutsOut(BaseModel):
    stripe_account_id: Optional[str] = Field(description="the creator's Stripe connected account, once created")
    payouts_enabled: bool
    charges_enabled: bool
    details_submitted: bool
    requirements_due: list[str] = Field(description="what Stripe still needs before it pays out")
    can_pay: bool = Field(description="true when the next payout run pays this creator")
    hold_reason: Optional[str] = Field(description="why payouts are on hold, in plain words (null when not)")


def payouts_out(_uow, panel: PayoutsPanel) -> dict:
    return PayoutsOut(
        stripe_account_id=panel.status.stripe_account_id,
        payouts_enabled=panel.status.payouts_enabled,
        charges_enabled=panel.charges_enabled,
        details_submitted=panel.details_submitted,
        requirements_due=list(panel.requirements_due),
        can_pay=panel.status.can_pay,
        hold_reason=panel.status.hold_reason,
    ).model_dump()


@payments_api.get("/me/payouts", tags=[T_PAY], responses={200: PayoutsOut})
def my_payouts():
    """The calling creator's payout status: whether Stripe can pay them, and if not, why."""
    return call(payouts_panel, render=payouts_out)
