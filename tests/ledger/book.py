"""A ledger over a real migrated database, shared by the integration tests."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.books import chart
from ledger import Ledger
from ledger.db import make_engine


class Book:
    """A ledger over a real migrated database, for integration tests."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, class_=Session, expire_on_commit=False)
        self.ledger = Ledger()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    def open(self, *codes: str) -> None:
        with self.session() as s:
            chart.open_accounts(self.ledger, s, codes)
            s.commit()

    def post(self, *drafts, now):
        with self.session() as s:
            posted = self.ledger.post_batch(s, list(drafts), now=now)
            s.commit()
        return posted

    def balance(self, code: str) -> int:
        with self.session() as s:
            return self.ledger.balance(s, code).minor

    def scalar(self, sql: str, **params):
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
