"""Cursor pagination: an opaque cursor (the last id seen, signed-free but checked) and
a bounded ``limit``.  Rows come in ascending id order."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from app.db import UnitOfWork
from app.errors import ValidationProblem

MAX_LIMIT = 100


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        last_id = int(value)
        if prefix != "id" or not 0 <= last_id < 2**31:
            raise ValueError
        return last_id
    except (ValueError, UnicodeDecodeError):
        raise ValidationProblem(
            "The cursor is not one this API handed out.", errors={"cursor": "invalid cursor"}
        ) from None


def paginate(uow: UnitOfWork, query, id_column, *, cursor: str | None, limit: int) -> Page:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationProblem(errors={"limit": f"must be between 1 and {MAX_LIMIT}"})
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows = list(uow.session.exec(query.order_by(id_column).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if more and rows else None)
