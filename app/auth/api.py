"""/api/v1 account routes: who am I, my API tokens, and the audit log (staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Optional

from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from app.kit.api import AuditPage, IdParam, PageQuery, api_blueprint, audit_out, authenticate, call, paged
from app.kit.web import now
from app.people import accounts, audit
from app.people.models import User
from app.validation import Strict, Text

bp = api_blueprint("api_v1_account", __name__)
bp.before_request(authenticate)
T_ME, T_AUDIT = Tag(name="account"), Tag(name="audit")


class TokenIn(Strict):
    name: Annotated[str, Text(100, min_length=1, blank=False)]


class TokenPath(BaseModel):
    token_id: IdParam


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    organisation_ids: list[int]


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: Optional[datetime]
    revoked_at: Optional[datetime]


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself; shown this once, only its hash is kept")


class TokenList(BaseModel):
    items: list[TokenOut]


def token_out(_uow, token) -> dict:
    return TokenOut.model_validate(token, from_attributes=True).model_dump(mode="json")


@bp.get("/me", tags=[T_ME], responses={200: UserOut})
def me():
    def render(uow, actor):
        user = uow.session.get(User, actor.user_id)
        return UserOut(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            organisation_ids=sorted(actor.org_ids),
        ).model_dump(mode="json")

    return call(lambda uow, actor: actor, render=render)


@bp.post("/tokens", tags=[T_ME], responses={201: TokenCreatedOut})
def create_token(body: TokenIn):
    def render(_uow, issued):
        token, plain = issued
        return {**token_out(_uow, token), "token": plain}

    return call(
        lambda uow, actor: accounts.issue_token(uow, actor, now(), name=body.name),
        render=render,
        http_status=201,
        write=True,
    )


@bp.get("/tokens", tags=[T_ME], responses={200: TokenList})
def list_tokens():
    return call(accounts.list_tokens, render=lambda uow, rows: {"items": [token_out(uow, t) for t in rows]})


@bp.delete("/tokens/<int:token_id>", tags=[T_ME], responses={200: TokenOut})
def revoke_token(path: TokenPath):
    return call(
        lambda uow, actor: accounts.revoke_token(uow, actor, now(), path.token_id), render=token_out, write=True
    )


@bp.get("/audit", tags=[T_AUDIT], responses={200: AuditPage})
def audit_log(query: PageQuery):
    return call(audit.list_events, cursor=query.cursor, limit=query.limit, render=paged(audit_out))
