"""The database subsystem: one engine per app, and units of work over it.

A ``UnitOfWork`` is a session whose transaction rolls back unless the service
commits it (cosmicpython).  Services receive one and never create engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from ledger.db import make_engine


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


def init_app(app: Flask) -> None:
    app.extensions["cameo.db"] = Database(app.config["DATABASE_URL"])


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["cameo.db"]
