"""The one CSV writer of the product: every CSV a person downloads goes through it.

CSV files are opened in spreadsheets, and a spreadsheet runs a cell that starts with
``=``, ``+``, ``-``, ``@`` (or a tab or carriage return before one) as a formula —
"CSV injection": a cameo title or a brand's event id could then run in an
accountant's spreadsheet.  Such a cell is written with a leading apostrophe, which
spreadsheets show as text.  Numbers are left as they are (``-50.00`` is a refund, not
a formula): a cell that is a plain decimal number is never prefixed.

``cell`` guards one value; ``text`` writes rows at once, ``stream`` in chunks (for
downloads of any length); ``frame_bytes`` writes a pandas frame (money columns are
integer minor units or decimal text, never floats).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # instants in UTC, the same text in every export
CHUNK_ROWS = 500


def cell(value: Any) -> str:
    """``value`` as CSV cell text, with a formula guard on text that a spreadsheet would run."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _writer(buffer: io.StringIO):
    return csv.writer(buffer, lineterminator="\r\n")


def text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV document (RFC 4180 line ends)."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow([cell(h) for h in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def stream(header: Sequence[str], rows: Iterable[Sequence[Any]], *, chunk: int = CHUNK_ROWS) -> Iterator[str]:
    """The same document in pieces of ``chunk`` rows, for a streamed download."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow([cell(h) for h in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if n % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def frame_bytes(frame) -> bytes:
    """A pandas frame as CSV bytes: text columns guarded, instants as UTC ISO text."""
    import pandas as pd

    guarded = frame.copy()
    for name in guarded.columns:
        dtype = guarded[name].dtype
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            guarded[name] = guarded[name].map(lambda v: cell(v) if isinstance(v, str) else v)
    buffer = io.StringIO()
    guarded.to_csv(buffer, index=False, date_format=TIME_FORMAT, lineterminator="\r\n")
    return buffer.getvalue().encode()
