"""Bearer-token authentication inside the caller's transaction, for hot API paths.

``token_actor`` answers "whose live token is this, and in which organisations?" with
one SELECT (token ⋈ user ⟕ memberships) and records the token's use in the SAME
transaction, so a request that writes pays for one BEGIN/COMMIT, not two.  The use
is recorded at most once per ``TOUCH_EVERY``: ``last_used_at`` is a "when was this
token last seen" hint for its owner, and rewriting that row on every request would
turn every API call into a write.  The UPDATE only moves the time forward, so two
concurrent requests cannot set it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.people.accounts import TOKEN_PREFIX, hash_token
from app.people.actors import Actor
from app.people.models import api_token_table, membership_table, user_table
from ledger.sql import on_driver, pg_text
from ledger.types import as_utc

TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 100

# Built once, so SQLAlchemy compiles them once.
_LOOKUP = (
    select(
        api_token_table.c.id,
        api_token_table.c.last_used_at,
        user_table.c.id,
        user_table.c.role,
        membership_table.c.organisation_id,
    )
    .join(user_table, user_table.c.id == api_token_table.c.user_id)
    .outerjoin(membership_table, membership_table.c.user_id == user_table.c.id)
    .where(
        api_token_table.c.token_hash == bindparam("token_hash"),
        api_token_table.c.revoked_at.is_(None),
        user_table.c.is_active,
    )
)
_TOUCH = (
    update(api_token_table)
    .where(
        api_token_table.c.id == bindparam("token_id"),
        or_(api_token_table.c.last_used_at.is_(None), api_token_table.c.last_used_at < bindparam("now")),
    )
    .values(last_used_at=bindparam("now"))
)


def token_actor(session: Session, plain: str, now: datetime, *, ip: str = "", user_agent: str = "") -> Actor | None:
    """The actor behind a live token of an active user, or None; marks the token used."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > MAX_TOKEN_LENGTH:
        return None
    conn = session.connection()
    rows: Sequence[Sequence[Any]]
    if conn.dialect.name == "postgresql":
        rows = on_driver(conn, pg_text(_LOOKUP), {"token_hash": hash_token(plain)})
    else:
        rows = conn.execute(_LOOKUP, {"token_hash": hash_token(plain)}).all()
    if not rows:
        return None
    token_id, last_used_at, user_id, role = rows[0][:4]
    if last_used_at is None or as_utc(last_used_at) <= now - TOUCH_EVERY:
        conn.execute(_TOUCH, {"token_id": token_id, "now": now})
    return Actor(
        user_id=user_id,
        role=role,
        org_ids=frozenset(r[4] for r in rows if r[4] is not None),
        ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:500],
    )
