"""The export registry: every table the product can export, by name, and every file
format it can write them in.

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

import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from sqlalchemy import Connection

from ledger.periods import Period

from . import csvfile

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

    def register(
        self, name: str, build: Builder, *, title: str, needs_period: bool = False, by_default: bool = True
    ) -> None:
        if name in self._tables:
            raise ValueError(f"export table {name!r} is registered twice")
        self._tables[name] = ExportTable(name, title, build, needs_period, by_default)

    def all(self) -> dict[str, ExportTable]:
        return dict(self._tables)


# ---------------------------------------------------------------- file formats
#
# One registry of formats, read by `cameo export` and the exports page alike: a
# format says its file extension and media type, whether it holds ONE table per
# file (CSV, Parquet: several tables go in a folder or a zip), MANY tables in one
# file (XLSX: a sheet each), or the whole BOOK (Beancount: the journal itself, not
# tables).

ONE, MANY, BOOK = "one", "many", "book"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    extension: str
    media_type: str
    holds: str  # ONE, MANY or BOOK
    label: str

    def filename(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", "csv", "text/csv", ONE, "CSV (a file per table)"),
        ExportFormat(
            "xlsx",
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            MANY,
            "Excel workbook (a sheet per table)",
        ),
        ExportFormat("parquet", "parquet", "application/vnd.apache.parquet", ONE, "Parquet (a file per table)"),
        ExportFormat("beancount", "beancount", "text/plain", BOOK, "Beancount (the whole journal)"),
    )
}


class UnknownFormat(ValueError):
    pass


def export_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownFormat(f"{name!r} is not an export format: choose {', '.join(FORMATS)}") from None


def table_bytes(frame, fmt: ExportFormat) -> bytes:
    """One table as one file of a ONE-table format."""
    if fmt.name == "csv":
        return csvfile.frame_bytes(frame)
    if fmt.name == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, engine="pyarrow")
        return buffer.getvalue()
    raise UnknownFormat(f"{fmt.name} does not hold one table per file")


def _naive_utc(frame):
    """openpyxl refuses time-zone-aware datetimes: write them as naive UTC."""
    frame = frame.copy()
    for name in frame.columns:
        if getattr(frame[name].dtype, "tz", None) is not None:
            frame[name] = frame[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def workbook_bytes(tables: Mapping[str, object]) -> bytes:
    """Many tables as one workbook, a sheet each (sheet names are the table names)."""
    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            _naive_utc(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def zip_bytes(tables: Mapping[str, object], fmt: ExportFormat) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables.items():
            archive.writestr(fmt.filename(name), table_bytes(frame, fmt))
    return buffer.getvalue()


def tables_file(tables: Mapping[str, object], fmt: ExportFormat, stem: str) -> tuple[bytes, str, str]:
    """Tables as ONE download: (body, file name, media type) — a workbook, or a zip of files."""
    if fmt.holds == MANY:
        return workbook_bytes(tables), fmt.filename(stem), fmt.media_type
    if fmt.holds == ONE:
        return zip_bytes(tables, fmt), f"{stem}-{fmt.name}.zip", "application/zip"
    raise UnknownFormat(f"{fmt.name} holds the whole book, not tables")


def write_tables(tables: Mapping[str, object], fmt: ExportFormat, out: Path) -> list[Path]:
    """Tables to ``out``: a workbook (``.xlsx``), a ``.zip`` of files, or a folder of them
    (created if missing).  Returns the files written."""
    out = Path(out)
    if fmt.holds == MANY:
        out.write_bytes(workbook_bytes(tables))
        return [out]
    if fmt.holds != ONE:
        raise UnknownFormat(f"{fmt.name} holds the whole book, not tables")
    if out.suffix == ".zip":
        out.write_bytes(zip_bytes(tables, fmt))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = out / fmt.filename(name)
        path.write_bytes(table_bytes(frame, fmt))
        written.append(path)
    return written
