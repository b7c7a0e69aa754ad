"""People, brand organisations, passwords and API tokens.

Passwords are stored as werkzeug scrypt hashes.  An API token is 32 random bytes
(``cx_`` + urlsafe base64), shown once when issued; only its sha256 is stored, so a
leaked database does not leak usable tokens.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime

from sqlmodel import col, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import UnitOfWork, id_of
from app.errors import Conflict, NotFound, ValidationProblem

from . import audit
from .actors import Actor
from .models import ROLES, ApiToken, Membership, Organisation, User

TOKEN_PREFIX = "cx_"
MAX_TOKENS_PER_USER = 50
DEFAULT_PASSWORD_METHOD = "scrypt"


@functools.cache
def _dummy_hash() -> str:
    """A real hash to check against when the e-mail is unknown, so timing does not tell."""
    return generate_password_hash(secrets.token_hex(16), method=DEFAULT_PASSWORD_METHOD)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    uow: UnitOfWork,
    now: datetime,
    *,
    email: str,
    password: str,
    display_name: str,
    role: str,
    password_method: str = DEFAULT_PASSWORD_METHOD,
) -> User:
    if role not in ROLES:
        raise ValidationProblem(errors={"role": f"must be one of {', '.join(ROLES)}"})
    if len(password) < 10:
        raise ValidationProblem(errors={"password": "must be at least 10 characters"})
    email = normalise_email(email)
    if uow.session.exec(select(User).where(User.email == email)).first():
        raise Conflict(errors={"email": "already registered"})
    user = User(
        email=email,
        display_name=display_name,
        password_hash=generate_password_hash(password, method=password_method),
        role=role,
        created_at=now,
    )
    uow.session.add(user)
    uow.session.flush()
    return user


def authenticate(uow: UnitOfWork, email: str, password: str) -> User | None:
    user = uow.session.exec(select(User).where(User.email == normalise_email(email))).first()
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_organisation(uow: UnitOfWork, now: datetime, *, name: str) -> Organisation:
    org = Organisation(name=name, created_at=now)
    uow.session.add(org)
    uow.session.flush()
    return org


def add_member(uow: UnitOfWork, now: datetime, *, user: User, organisation: Organisation) -> Membership:
    if user.role != "brand":
        raise ValidationProblem(errors={"user_id": "only brand users can be members of a brand organisation"})
    membership = Membership(user_id=id_of(user), organisation_id=id_of(organisation), created_at=now)
    uow.session.add(membership)
    uow.session.flush()
    return membership


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(uow: UnitOfWork, actor: Actor, now: datetime, *, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor; the plain token is returned once and never stored."""
    live = uow.session.exec(
        select(ApiToken.id).where(ApiToken.user_id == actor.user_id, col(ApiToken.revoked_at).is_(None))
    ).all()
    if len(live) >= MAX_TOKENS_PER_USER:
        raise Conflict(f"At most {MAX_TOKENS_PER_USER} live tokens; revoke one first.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.user_id, name=name, prefix=plain[:10], token_hash=hash_token(plain), created_at=now)
    uow.session.add(token)
    uow.session.flush()
    audit.record(uow, actor, now, "token.issue", "api_token", id_of(token), name=name)
    return token, plain


def list_tokens(uow: UnitOfWork, actor: Actor) -> list[ApiToken]:
    return list(
        uow.session.exec(select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(col(ApiToken.id))).all()
    )


def revoke_token(uow: UnitOfWork, actor: Actor, now: datetime, token_id: int) -> ApiToken:
    token = uow.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(uow, actor, now, "token.revoke", "api_token", id_of(token))
    return token
