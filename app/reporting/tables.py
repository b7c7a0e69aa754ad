"""The registry of exportable tables: name → builder ``(connection, period) → DataFrame``.

The ledger's tables and the dashboard's are registered by ``wiring.init_app``; other
subsystems add theirs from their own ``init_app``::

    register_export_table(app, "statements", build_statements, title="Per-creator statements",
                          needs_period=True)

A builder receives a SQLAlchemy ``Connection`` (open a ``Session(bind=conn)`` for ORM
reads) and a ``ledger.periods.Period`` — or ``None`` for "the whole book" when the
table allows that — and returns a pandas DataFrame whose money columns are ``Int64``
minor units (plus ``*_decimal`` text if wanted), never floats.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from flask import Flask, current_app
from sqlalchemy import Connection

from ledger.periods import Period

Builder = Callable[[Connection, Optional[Period]], object]
EXTENSION = "cameo.export_tables"


@dataclass(frozen=True)
class ExportTable:
    name: str
    title: str
    build: Builder
    needs_period: bool = False
    by_default: bool = True  # False: only when named (e.g. it asks Stripe, which may be unreachable)


def register_export_table(app: Flask, name: str, build: Builder, *, title: str, needs_period: bool = False,
                          by_default: bool = True) -> None:
    registry: dict[str, ExportTable] = app.extensions.setdefault(EXTENSION, {})
    if name in registry:
        raise ValueError(f"export table {name!r} is registered twice")
    registry[name] = ExportTable(name, title, build, needs_period, by_default)


def export_tables(app: Flask | None = None) -> dict[str, ExportTable]:
    return dict((app or current_app).extensions.get(EXTENSION, {}))
