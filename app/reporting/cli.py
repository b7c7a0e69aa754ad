"""``cameo export`` (tables or Beancount for a period or the whole book) and
``cameo export-payees`` (annual per-payee totals).  They run as the operator
(``SYSTEM``): whoever can run the CLI can already read the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.db import Database
from app.errors import Problem
from app.kit import csvfile
from app.kit.exports import BOOK, FORMATS, ONE, ExportTables, write_tables
from app.kit.registry import provided
from app.people.actors import SYSTEM
from ledger.periods import Period

from . import service


def _period(_ctx, _param, value):
    if value is None:
        return None
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("export")
@click.option(
    "--format",
    "fmt_name",
    type=click.Choice(list(FORMATS)),
    required=True,
    help="csv/parquet: a directory, or a .zip; xlsx: one workbook; beancount: one file.",
)
@click.option("--period", callback=_period, help="A month, YYYY-MM (default: the whole book).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=True), required=True)
@click.option("--tables", help="Comma-separated table names (default: every table that fits).")
@with_appcontext
def export_command(fmt_name: str, period: Period | None, out: Path, tables: str | None) -> None:
    """Export ledger tables or a Beancount file."""
    fmt = FORMATS[fmt_name]
    if fmt.holds == BOOK and tables:
        raise click.BadParameter(
            f"a {fmt.name} file holds the whole book; --tables is for "
            f"{'/'.join(f.name for f in FORMATS.values() if f.holds != BOOK)}",
            param_hint="--tables",
        )
    if fmt.holds != ONE and out.is_dir():
        raise click.BadParameter(f"{out} is a directory; give a file name", param_hint="--out")
    if not out.parent.exists():
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="--out")
    try:
        with provided(Database).unit_of_work() as uow:
            if fmt.holds == BOOK:
                with out.open("w", encoding="utf-8") as handle:
                    count = service.write_beancount(uow, SYSTEM, handle, period)
                click.echo(f"wrote {count} transactions to {out}")
                return
            names = service.check_tables(provided(ExportTables), tables.split(",") if tables else None, period)
            built = service.build_tables(uow, SYSTEM, provided(ExportTables), names, period)
    except Problem as problem:
        raise click.UsageError(problem.detail or problem.title) from None
    for path in write_tables(built, fmt, out):
        click.echo(f"wrote {path}")
    for name, frame in built.items():
        click.echo(f"  {name}: {len(frame)} rows")


@click.command("export-payees")
@click.option("--year", type=click.IntRange(1970, 9998), required=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@with_appcontext
def export_payees_command(year: int, out: Path) -> None:
    """Annual per-payee totals as CSV (payouts minus reversals, per creator and currency)."""
    if not out.parent.exists():
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="--out")
    with provided(Database).unit_of_work() as uow:
        frame = service.payee_frame(uow, SYSTEM, year)
    out.write_bytes(csvfile.frame_bytes(frame))
    click.echo(f"wrote {len(frame)} payee rows for {year} to {out}")
