"""The encodings every format shares (docs/formats/receipts.md, "Conventions").

* base64url without padding (RFC 4648 §5); decoding is strict: only the url-safe
  alphabet, no ``=``, no impossible lengths;
* canonical JSON: keys sorted by code point, no whitespace, UTF-8, non-ASCII written
  as itself, Python's ``json`` escapes (the producer is Python; the rules are written
  out in docs/formats/entries.md so a verifier in another language can match them);
* strict JSON reading: a duplicate key, a float, ``NaN`` or ``Infinity`` is refused,
  because nothing the platform signs ever contains one and a lenient reader would let
  two parsers see two different documents in the same bytes;
* times: RFC 3339 in UTC with a ``Z``.

Everything that is wrong raises :class:`Invalid`; callers add where it was found.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

_B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_RFC3339_UTC = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Invalid(Exception):
    """Something does not verify: ``where`` (a file, or a file and a line) and why."""

    def __init__(self, reason: str, where: str | None = None):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason, self.where = reason, where

    def at(self, where: str) -> Invalid:
        """The same failure, located (an inner location is kept after the outer one)."""
        return Invalid(self.reason, f"{where}: {self.where}" if self.where else where)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str, *, allow_empty: bool = False, what: str = "value") -> bytes:
    if (
        not isinstance(text, str)
        or (not text and not allow_empty)
        or not _B64URL.issuperset(text)
        or len(text) % 4 == 1
    ):
        raise Invalid(f"{what} is not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise Invalid(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_float(text: str) -> Any:
    raise Invalid(f"a number with a fraction or exponent ({text}) where only integers are allowed")


def _no_constant(text: str) -> Any:
    raise Invalid(f"{text} is not JSON")


def strict_json(data: bytes | str, what: str = "document") -> Any:
    """Parse JSON, refusing duplicate keys, floats, NaN and Infinity."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_constant)
    except Invalid as problem:
        raise Invalid(f"{what}: {problem.reason}") from None
    except (UnicodeDecodeError, ValueError) as problem:
        raise Invalid(f"{what} is not JSON ({problem})") from None


def json_object(data: bytes | str, what: str = "document") -> dict[str, Any]:
    value = strict_json(data, what)
    if not isinstance(value, dict):
        raise Invalid(f"{what} is not a JSON object")
    return value


def is_int(value: Any) -> bool:
    """An integer and not a boolean (``True`` is an ``int`` in Python, never in our formats)."""
    return isinstance(value, int) and not isinstance(value, bool)


def field(
    document: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str, *, optional: bool = False
) -> Any:
    """``document[name]`` when it has the JSON type ``kind`` (never a boolean for ``int``)."""
    value = document.get(name)
    if value is None:
        if optional:
            return None
        raise Invalid(f"{what} has no {name}")
    if isinstance(value, bool) or not isinstance(value, kind):
        raise Invalid(f"{what}: {name} must be {_TYPE_NAMES.get(kind, 'of another type')}")
    return value


_TYPE_NAMES = {int: "an integer", str: "a string", list: "a list", dict: "an object"}


def hex64(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise Invalid(f"{what} must be 64 lowercase hex digits")
    return value


def parse_time(value: Any, what: str) -> datetime:
    """An RFC 3339 UTC timestamp (``Z``; fractions beyond microseconds are truncated)."""
    found = _RFC3339_UTC.fullmatch(value) if isinstance(value, str) else None
    if not found:
        raise Invalid(f"{what} must be an RFC 3339 UTC time like 2026-10-15T12:00:00Z")
    year, month, day, hour, minute, second, fraction = found.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError:
        raise Invalid(f"{what} is not a real time ({value})") from None
