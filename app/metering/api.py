"""/api/v1 usage routes (metering): report derivative uses, list and export them.

A blueprint of its own with the API's bearer tokens, rate limit and problem+json
errors (``app.kit.api``); its token check keeps the unit of work open for
``POST /usage``, so a report is one transaction."""

from __future__ import annotations

from typing import Literal, Optional

from flask import g, request, stream_with_context, url_for
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from app.clock import Clock
from app.db import Database, get_existing
from app.kit import csvfile
from app.kit.api import MoneyOut, PageQuery, Unauthorised, api_blueprint, bearer_token, call, paged
from app.kit.downloads import download
from app.kit.registry import provided
from app.kit.web import request_actor
from app.marketplace.api_models import LicencePath
from app.people.models import User
from app.people.tokens import token_actor
from ledger import Ledger

from . import usage
from .models import UsageEvent
from .receipts import KeyStore
from .schemas import UsageIn

usage_api = api_blueprint("api_v1_usage", __name__)
T_USAGE = Tag(name="usage", description="Derivative uses of licensed cameos, and their signed receipts.")
REPORT_ENDPOINT = "api_v1_usage.report_usage"


@usage_api.before_request
def authenticate():
    """Check the bearer token in a unit of work that POST /usage then writes in: one
    transaction per report (the token's use is recorded in it, at most once a minute).
    The read endpoints record the use and let go of the unit of work at once."""
    token = bearer_token()
    uow = g.usage_uow = provided(Database).unit_of_work().__enter__()
    actor = token_actor(
        uow.session,
        token,
        provided(Clock)(),
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
    )
    if actor is None:
        raise Unauthorised("The API token is unknown, revoked, or its owner is inactive.")
    g.api_user_id, g.usage_actor = actor.user_id, actor
    if request.endpoint != REPORT_ENDPOINT:
        uow.commit()
        _release()


@usage_api.teardown_request
def _release(_exc: BaseException | None = None) -> None:
    uow = g.pop("usage_uow", None)
    if uow is not None:
        uow.__exit__(None, None, None)  # rolls back whatever was not committed


class UsageResultOut(BaseModel):
    """The answer for one event, in request order.  ``accepted``: recorded now, with its
    receipt; ``duplicate``: this event id was recorded before with the same content (the
    original usage and receipt are returned, nothing new is recorded); ``rejected``:
    nothing recorded, ``reason`` says why — ``event_id_conflict`` when the event id was
    used before (or earlier in the batch) for a use with other content."""

    index: int
    event_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason: Optional[usage.RejectReason] = None
    detail: Optional[str] = None
    usage_id: Optional[int] = None
    price: Optional[MoneyOut] = None
    receipt_id: Optional[str] = None
    receipt: Optional[str] = Field(
        default=None,
        description="base64url(payload).base64url(Merkle proof)."
        "base64url(Ed25519 signature over the report's Merkle root); keys at "
        "/.well-known/cameo-receipt-keys.json",
    )
    verify_url: Optional[str] = None


class UsageResultsOut(BaseModel):
    """Per-event results.  HTTP 200 when no event was rejected, 207 (Multi-Status) when
    at least one was: the good events of a batch are recorded, the bad ones reported."""

    results: list[UsageResultOut]
    accepted: int
    duplicates: int
    rejected: int


class UsageOut(BaseModel):
    id: int
    licence_id: int
    brand_org_id: int
    event_id: str
    kind: str
    quantity: int
    occurred_at: str
    territory: str
    media: str
    content_sha256: Optional[str]
    content_url: Optional[str]
    price: MoneyOut
    recorded_at: str
    receipt_id: str
    receipt: str


class UsagePage(BaseModel):
    items: list[UsageOut]
    next_cursor: Optional[str]


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def result_out(outcome: usage.Outcome, verify_base: str) -> dict:
    body = {"index": outcome.index, "event_id": outcome.event_id, "status": outcome.status}
    if outcome.reason:
        body["reason"] = outcome.reason
    if outcome.detail:
        body["detail"] = outcome.detail
    if outcome.usage is not None:
        body["usage_id"] = outcome.usage.id
        body["price"] = {"amount_minor": outcome.usage.price_minor, "currency": outcome.usage.currency}
    if outcome.receipt is not None:
        # a token is base64url parts joined by dots: URL-safe as it is, so it is appended, not quoted
        body.update(
            receipt_id=outcome.receipt.id, receipt=outcome.receipt.token, verify_url=verify_base + outcome.receipt.token
        )
    return body


def usage_out(_uow, row: UsageEvent) -> dict:
    return {
        "id": row.id,
        "licence_id": row.licence_id,
        "brand_org_id": row.brand_org_id,
        "event_id": row.event_id,
        "kind": row.kind,
        "quantity": row.quantity,
        "occurred_at": _iso(row.occurred_at),
        "territory": row.territory,
        "media": row.media,
        "content_sha256": row.content_sha256,
        "content_url": row.content_url,
        "price": {"amount_minor": row.price_minor, "currency": row.currency},
        "recorded_at": _iso(row.recorded_at),
        "receipt_id": row.receipt_id,
        "receipt": row.receipt_token,
    }


@usage_api.post("/usage", tags=[T_USAGE], responses={200: UsageResultsOut, 207: UsageResultsOut})
def report_usage(body: UsageIn):
    """Report one derivative use or a batch of up to 1,000.  Idempotent on the brand's
    ``event_id``: the same id with the same content is a duplicate, with other content a
    per-event rejection (``event_id_conflict``; the rest of a batch is unaffected).  Each
    accepted use is priced by its licence (per-use royalty × quantity), posted to the
    ledger and answered with a signed receipt."""
    uow = g.usage_uow
    outcomes = usage.report_usage(
        uow, g.usage_actor, provided(Clock)(), body.events, ledger=provided(Ledger), keys=provided(KeyStore)
    )
    uow.commit()
    verify_base = url_for("metering_public.verify", receipt="-", _external=True)[:-1]
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    results = []
    for outcome in outcomes:
        counts[outcome.status] += 1
        results.append(result_out(outcome, verify_base))
    return (
        {
            "results": results,
            "accepted": counts["accepted"],
            "duplicates": counts["duplicate"],
            "rejected": counts["rejected"],
        },
        207 if counts["rejected"] else 200,
    )


@usage_api.get("/licences/<int:licence_id>/usage", tags=[T_USAGE], responses={200: UsagePage})
def list_usage(path: LicencePath, query: PageQuery):
    """The licence's recorded uses, oldest first; for its brand and its creators only."""
    return call(usage.list_usage, path.licence_id, cursor=query.cursor, limit=query.limit, render=paged(usage_out))


CSV_COLUMNS = (
    "usage_id",
    "event_id",
    "licence_id",
    "brand_org_id",
    "kind",
    "quantity",
    "occurred_at",
    "territory",
    "media",
    "content_sha256",
    "content_url",
    "price_minor",
    "currency",
    "recorded_at",
    "receipt_id",
)


@usage_api.get(
    "/licences/<int:licence_id>/usage.csv",
    tags=[T_USAGE],
    responses={
        200: {
            "description": "Every recorded use of the licence as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def export_usage(path: LicencePath):
    """The licence's recorded uses as CSV (price in minor units), for its brand and its creators only."""
    with provided(Database).unit_of_work() as uow:  # authorise before streaming, so a refusal is a proper problem
        usage.readable_licence(uow, request_actor(uow, get_existing(uow.session, User, g.api_user_id)), path.licence_id)
    user_id = g.api_user_id

    def rows():
        with provided(Database).unit_of_work() as uow:
            actor = request_actor(uow, get_existing(uow.session, User, user_id))
            for row in usage.iter_usage(uow, actor, path.licence_id):
                yield (
                    row.id,
                    row.event_id,
                    row.licence_id,
                    row.brand_org_id,
                    row.kind,
                    row.quantity,
                    _iso(row.occurred_at),
                    row.territory,
                    row.media,
                    row.content_sha256,
                    row.content_url,
                    row.price_minor,
                    row.currency,
                    _iso(row.recorded_at),
                    row.receipt_id,
                )

    return download(
        stream_with_context(csvfile.stream(CSV_COLUMNS, rows())), f"licence-{path.licence_id}-usage.csv", "text/csv"
    )
