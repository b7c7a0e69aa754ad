"""What every JSON API route shares (/api/v1).

* ``api_blueprint`` — a blueprint with the API's security scheme and problem answers;
  ``register_api`` puts it under the API rate limit and into the OpenAPI document.
* ``authenticate`` — the bearer-token check (run before each request of a blueprint);
  ``bearer_token`` parses the ``Authorization`` header the one way the API accepts.
* ``call`` — one service call for the token's user in a unit of work, rendered in the
  same transaction and committed only for writes; ``paged`` renders a cursor page.
* the response models every part of the API uses (``ProblemOut``, ``PageQuery``,
  ``MoneyOut``, ``IdParam``, ``AuditOut``) and, in ``init_app``, the OpenAPI document at
  ``/api/v1/openapi.json`` and RFC 9457 problems for invalid requests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Optional

from flask import Flask, g, jsonify, request
from flask_openapi3 import APIBlueprint, Info, OpenAPI
from flask_openapi3.types import ResponseDict, SecuritySchemesDict
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.clock import Clock
from app.db import Database, UnitOfWork, get_existing
from app.errors import Problem
from app.paging import Page
from app.people.models import AuditEvent, User
from app.people.tokens import token_actor
from app.validation import MAX_ID, validation_problem

from .ratelimit import limit_api
from .registry import provided
from .web import request_actor

PREFIX = "/api/v1"
IdParam = Annotated[int, Field(ge=1, le=MAX_ID)]
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}
SECURITY_SCHEMES: SecuritySchemesDict = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (cx_…) issued at POST /api/v1/tokens or in the web UI.",
    }
}


class OpenAPIConfigDict(ConfigDict, total=False):
    """pydantic's model config plus what flask-openapi3 reads from it."""

    openapi_extra: dict[str, Any]  # the response's description, headers, content …


class ProblemOut(BaseModel):
    """An RFC 9457 problem; ``errors`` maps each invalid field to its message."""

    model_config = OpenAPIConfigDict(extra="allow", openapi_extra={"content": PROBLEM_CONTENT})
    type: str
    title: str
    status: int
    detail: Optional[str] = None
    errors: Optional[dict[str, str]] = None


class PageQuery(BaseModel):
    cursor: Optional[Annotated[str, Field(max_length=200)]] = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class MoneyOut(BaseModel):
    amount_minor: int
    currency: str


class AuditOut(BaseModel):
    """One audit-log event (the log itself, and a licence's history)."""

    id: int
    at: datetime
    actor_id: Optional[int]
    action: str
    object_type: str
    object_id: int
    from_status: Optional[str]
    to_status: Optional[str]
    details: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditOut]


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: Optional[str]


def audit_out(_uow: UnitOfWork, event: AuditEvent) -> dict:
    return AuditOut.model_validate(event, from_attributes=True).model_dump(mode="json")


class Unauthorised(Problem):
    status = 401
    title = "Unauthorised"


STANDARD_PROBLEMS = (401, 403, 404, 409, 422, 429)


def api_blueprint(name: str, import_name: str, *, problems: tuple[int, ...] = ()) -> APIBlueprint:
    """A blueprint under /api/v1 that needs a bearer token and answers problems as ``ProblemOut``."""
    responses: ResponseDict = dict.fromkeys((*STANDARD_PROBLEMS, *problems), ProblemOut)
    return APIBlueprint(name, import_name, url_prefix=PREFIX, abp_security=[{"bearer": []}], abp_responses=responses)


def _openapi(app: Flask) -> OpenAPI:
    """The app as the ``OpenAPI`` (a Flask subclass) that ``create_app`` builds."""
    if not isinstance(app, OpenAPI):
        raise TypeError(f"the JSON API needs a flask_openapi3.OpenAPI app, not {type(app).__name__}")
    return app


def register_api(app: Flask, blueprint: APIBlueprint) -> None:
    limit_api(app, blueprint)
    _openapi(app).register_api(blueprint)


def bearer_token() -> str:
    """The token of ``Authorization: Bearer <token>`` (scheme in any case), or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("Send an API token: `Authorization: Bearer cx_…`.")
    return token.strip()


def authenticate() -> None:
    """``before_request`` of a token-authenticated blueprint: sets ``g.api_user_id``."""
    token = bearer_token()
    with provided(Database).unit_of_work() as uow:
        actor = token_actor(uow.session, token, provided(Clock)())
        if actor is None:
            raise Unauthorised("The API token is unknown, revoked, or its owner is inactive.")
        uow.commit()
        g.api_user_id = actor.user_id


def call(
    service: Callable, *args: Any, render: Callable, http_status: int = 200, write: bool = False, **kwargs: Any
) -> tuple[Any, int]:
    """Run one service call for the token's user and render its result in the same transaction."""
    with provided(Database).unit_of_work() as uow:
        actor = request_actor(uow, get_existing(uow.session, User, g.api_user_id))
        result = service(uow, actor, *args, **kwargs)
        body = render(uow, result)
        if write:
            uow.commit()
    return body, http_status


def paged(render_one: Callable[[UnitOfWork, Any], dict]) -> Callable[[UnitOfWork, Page], dict]:
    """A renderer for a cursor ``Page`` whose items ``render_one`` renders."""

    def render(uow: UnitOfWork, page: Page) -> dict:
        return {"items": [render_one(uow, item) for item in page.items], "next_cursor": page.next_cursor}

    return render


def _raise_problem(exc: ValidationError) -> None:
    raise validation_problem(exc)


def init_app(app: Flask) -> None:
    """The API's OpenAPI description and its answer to invalid requests."""
    api = _openapi(app)
    api.info = Info(
        title="Cameo Exchange API",
        version="1.0.0",
        description="Cameos, consent, contract templates, offers, licences, usage and payments.",
    )
    api.security_schemes = SECURITY_SCHEMES
    api.validation_error_callback = _raise_problem
    api.validation_error_model = ProblemOut

    @app.get(f"{PREFIX}/openapi.json")
    def openapi_json():
        document = api.api_doc
        document["components"]["schemas"].pop("ValidationErrorModel", None)
        return jsonify(document)
