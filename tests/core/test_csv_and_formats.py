"""The one CSV writer (with its spreadsheet-formula guard) and the one registry of
export formats."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest

from app.kit import csvfile
from app.kit.exports import BOOK, FORMATS, MANY, ONE, UnknownFormat, export_format, tables_file, write_tables

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-50.00", "-50.00"),  # a refund, not a formula
        ("-7", "-7"),
        (-7, "-7"),
        ("plain", "plain"),
        (None, ""),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_written_as_text(value, written):
    assert csvfile.cell(value) == written


def test_documents_streams_and_frames_are_guarded_alike():
    rows = [("=1+1", -5, "a"), ("ok", 10, None)]
    whole = csvfile.text(("title", "amount", "note"), rows)
    assert whole == "title,amount,note\r\n'=1+1,-5,a\r\nok,10,\r\n"
    assert "".join(csvfile.stream(("title", "amount", "note"), rows, chunk=1)) == whole
    frame = pd.DataFrame({"title": ["=1+1", "ok"], "amount": pd.array([-5, 10], dtype="Int64")})
    assert csvfile.frame_bytes(frame).decode() == "title,amount\r\n'=1+1,-5\r\nok,10\r\n"


def test_every_csv_the_product_writes_goes_through_the_one_writer():
    writers = sorted(
        str(p.relative_to(APP))
        for p in APP.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(|\.to_csv\(", p.read_text())
    )
    assert writers == ["kit/csvfile.py"]


def test_formats_say_how_many_tables_a_file_holds():
    assert {name: f.holds for name, f in FORMATS.items()} == {
        "csv": ONE,
        "xlsx": MANY,
        "parquet": ONE,
        "beancount": BOOK,
    }
    with pytest.raises(UnknownFormat, match="'ods' is not an export format"):
        export_format("ods")


def test_tables_become_one_download_or_files(tmp_path):
    tables = {"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"y": ["=z"]})}
    body, name, media_type = tables_file(tables, FORMATS["csv"], "cameo-2026-10")
    assert (name, media_type) == ("cameo-2026-10-csv.zip", "application/zip")
    with zipfile.ZipFile(BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["a.csv", "b.csv"] and archive.read("b.csv") == b"y\r\n'=z\r\n"
    body, name, _ = tables_file(tables, FORMATS["xlsx"], "book")
    assert name == "book.xlsx" and sorted(pd.read_excel(BytesIO(body), sheet_name=None)) == ["a", "b"]
    written = write_tables(tables, FORMATS["parquet"], tmp_path / "out")
    assert [p.name for p in written] == ["a.parquet", "b.parquet"]
    with pytest.raises(UnknownFormat, match="whole book"):
        tables_file(tables, FORMATS["beancount"], "x")
