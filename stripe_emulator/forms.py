"""Stripe's form encoding: nested keys back into values, strings into schema types.

Stripe clients send ``application/x-www-form-urlencoded`` bodies (and query
strings) whose keys nest deeper than OpenAPI's ``deepObject`` style::

    line_items[0][price_data][currency]=usd   expand[]=data.source   metadata[k]=v

:func:`unflatten` rebuilds the nested value (arrays arrive as dicts keyed by
``"0"``, ``"1"``, …; ``[]`` appends) and :func:`coerce` walks it alongside the
operation's JSON Schema, turning strings into integers, numbers and booleans and
digit-keyed dicts into arrays wherever the schema says so. Anything that does not
convert is left alone for the validator to reject with the right ``param``.
Without a schema (contract checks off) :func:`coerce` only turns digit-keyed
dicts into lists; handlers read numbers through tolerant helpers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SUBKEY = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

Resolve = Callable[[dict[str, Any]], dict[str, Any]]


class FormKeyError(ValueError):
    """A key such as ``a[b`` that is not valid Stripe form syntax."""

    def __init__(self, key: str):
        super().__init__(f"Invalid parameter name: {key}")
        self.key = key


def unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``[("a[b][0]", "x")]`` → ``{"a": {"b": {"0": "x"}}}``."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise FormKeyError(key)
        path = [match.group(1), *_SUBKEY.findall(match.group(2))]
        node = root
        for depth, part in enumerate(path):
            if part == "":  # "[]" appends: the next free index
                part = str(len(node))
            last = depth == len(path) - 1
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return root


def _is_index_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k.isdigit() for k in value)


def _as_list(value: dict[str, Any]) -> list[Any]:
    return [value[k] for k in sorted(value, key=int)]


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return set(declared)
    return {declared} if declared else set()


def coerce(value: Any, schema: dict[str, Any] | None, resolve: Resolve) -> Any:
    """Convert form strings to the types ``schema`` expects (best effort)."""
    if schema is None:
        return _coerce_without_schema(value)
    schema = resolve(schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return coerce(value, _pick_alternative(value, alternatives, resolve), resolve)
    types = _types(schema)
    if isinstance(value, str):
        return _coerce_scalar(value, types)
    if isinstance(value, dict):
        if "array" in types and _is_index_dict(value):
            return [coerce(item, schema.get("items"), resolve) for item in _as_list(value)]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        extra_schema = extra if isinstance(extra, dict) else None
        return {
            key: coerce(item, properties.get(key, extra_schema), resolve)
            if key in properties or extra_schema is not None
            else _coerce_without_schema(item)
            for key, item in value.items()
        }
    return value


def _coerce_scalar(value: str, types: set[str]) -> Any:
    if "integer" in types and _INTEGER.match(value):
        return int(value)
    if "number" in types and _NUMBER.match(value):
        return int(value) if _INTEGER.match(value) else float(value)
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    return value


def _pick_alternative(value: Any, alternatives: list[dict[str, Any]], resolve: Resolve) -> dict[str, Any]:
    """Choose the ``anyOf`` branch the value was most likely meant for."""
    resolved = [resolve(alt) for alt in alternatives]

    def first(predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((alt for alt in resolved if predicate(alt)), None)

    if isinstance(value, str):
        if value == "":
            chosen = first(lambda alt: "" in alt.get("enum", ()))
            if chosen:
                return chosen
        for kind, pattern in (("integer", _INTEGER), ("number", _NUMBER)):
            chosen = first(lambda alt, kind=kind: kind in _types(alt))
            if chosen and pattern.match(value):
                return chosen
        chosen = first(lambda alt: "boolean" in _types(alt))
        if chosen and value in ("true", "false"):
            return chosen
        return first(lambda alt: "string" in _types(alt)) or resolved[0]
    if isinstance(value, dict):
        if _is_index_dict(value):
            chosen = first(lambda alt: "array" in _types(alt))
            if chosen:
                return chosen
        return first(lambda alt: "object" in _types(alt) or "properties" in alt) or resolved[0]
    return resolved[0]


def _coerce_without_schema(value: Any) -> Any:
    if isinstance(value, dict):
        if _is_index_dict(value):
            return [_coerce_without_schema(item) for item in _as_list(value)]
        return {key: _coerce_without_schema(item) for key, item in value.items()}
    return value


def stripe_param_name(path: Iterable[Any]) -> str:
    """``["line_items", 0, "price_data"]`` → ``line_items[0][price_data]``."""
    parts = [str(part) for part in path]
    if not parts:
        return ""
    return parts[0] + "".join(f"[{part}]" for part in parts[1:])
