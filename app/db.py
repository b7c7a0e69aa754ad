"""The database subsystem: one engine per app, and units of work over it.

A ``UnitOfWork`` is a session whose transaction rolls back unless the service
commits it (cosmicpython).  Services receive one and never create engines.

SQLModel types a table's generated primary key ``Optional[int]`` (it is None until
the row is flushed) and ``Session.get`` returns ``Optional[Model]``.  Where the code
knows better — the row was flushed, or its id came from the database in the same
run — ``id_of`` and ``get_existing`` say so, and raise a clear error if it is ever
not true, instead of passing None along; ``key_column`` types a primary key read by a
query as the ``int`` it always is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Result, text
from sqlalchemy.orm import Mapped, sessionmaker
from sqlmodel import Session, col

from ledger.db import make_engine

M = TypeVar("M")


class HasId(Protocol):
    @property
    def id(self) -> int | None: ...


class UnsavedRow(RuntimeError):
    """A row's generated id was needed before the row was flushed (a bug)."""


class MissingRow(LookupError):
    """A row the code holds the key of is not in the database (a bug, or a deleted row)."""


def id_of(row: HasId) -> int:
    """The primary key of a row that has been flushed or loaded."""
    if row.id is None:
        raise UnsavedRow(f"{type(row).__name__} has no id yet: flush it first")
    return row.id


def key_column(attribute: int | None) -> Mapped[int]:
    """A generated primary key as a query column (``select(key_column(Item.id))``): the
    column is NOT NULL, so what a query reads from it is an ``int``."""
    return cast("Mapped[int]", col(attribute))


def rowcount(result: Result[Any]) -> int:
    """How many rows a DML statement run by ``Session.execute`` matched (SQLAlchemy types
    that result as a plain ``Result``; for DML it is a ``CursorResult``)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of a DML statement: {result!r}")
    return result.rowcount


def get_existing(session: Session, model: type[M], key: object, *, with_for_update: bool = False) -> M:
    """``session.get`` for a row that must exist because its key came from the database."""
    row = session.get(model, key, with_for_update=with_for_update)
    if row is None:
        raise MissingRow(f"{model.__name__} {key!r} does not exist")
    return row


class UnitOfWork:
    """One transaction: ``with db.unit_of_work() as uow: … uow.commit()``.

    ``session`` exists only inside the ``with`` block; asking for it outside is a
    programming error and says so, rather than handing out ``None``.
    """

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("this unit of work is not open: use it as `with db.unit_of_work() as uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    def __exit__(self, *exc_info: object) -> None:
        session, self._session = self.session, None
        try:
            session.rollback()
        finally:
            session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, **engine_options)
        self._sessions = sessionmaker(self.engine, class_=Session, expire_on_commit=False)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
