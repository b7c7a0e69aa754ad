"""The export registry: every table the product can export, by name.

A table is a builder ``(connection, period) → DataFrame`` with a title; the reporting
pages and ``cameo export`` look tables up here, and each feature registers its own
from its ``init_app`` (the ledger's journal and trial balance, the dashboard's
figures, statements, reconciliation)::

    provided(ExportTables, app).register("statements", build, title="Creator statements", needs_period=True)

A builder receives a SQLAlchemy ``Connection`` (open a ``Session(bind=conn)`` for ORM
reads) and a ``ledger.periods.Period`` — or ``None`` for "the whole book" when the
table allows that — and returns a pandas DataFrame whose money columns are ``Int64``
minor units (plus ``*_decimal`` text if wanted), never floats.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import Connection

from ledger.periods import Period

Builder = Callable[[Connection, Optional[Period]], object]


@dataclass(frozen=True)
class ExportTable:
    name: str
    title: str
    build: Builder
    needs_period: bool = False
    by_default: bool = True  # False: only when named (e.g. it asks Stripe, which may be unreachable)


class ExportTables:
    """The app's exportable tables, in registration order."""

    def __init__(self) -> None:
        self._tables: dict[str, ExportTable] = {}

    def register(self, name: str, build: Builder, *, title: str, needs_period: bool = False,
                 by_default: bool = True) -> None:
        if name in self._tables:
            raise ValueError(f"export table {name!r} is registered twice")
        self._tables[name] = ExportTable(name, title, build, needs_period, by_default)

    def all(self) -> dict[str, ExportTable]:
        return dict(self._tables)
