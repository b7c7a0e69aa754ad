"""Column declarations the product's tables share (SQLModel fields).

Instants are ``UTCDateTime`` (aware UTC on every backend), money columns are
``BigInteger`` minor units declared where they are used, and enumerations are
checked by the database too (``one_of`` builds the CHECK expression).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field

from ledger.types import UTCDateTime


def one_of(column: str, values: tuple[str, ...]) -> str:
    """``column IN ('a', 'b')`` for a CHECK constraint."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def foreign_key(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    return Field(sa_column=Column(Integer, ForeignKey(target), nullable=nullable, index=index))


def instant(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def string(length: int, *, default: Any = ..., nullable: bool = False) -> Any:
    kwargs = {} if default is ... else {"default": default}
    return Field(sa_column=Column(String(length), nullable=nullable), **kwargs)


def text(*, default: str | None = None) -> Any:
    kwargs: dict[str, Any] = {} if default is None else {"default": default}
    return Field(sa_column=Column(Text, nullable=False), **kwargs)


def json_value(default_factory: Any = list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))
