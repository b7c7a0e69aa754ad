"""Validated input, shared by every service that takes it (pydantic).

Strict types: money is an integer count of minor units (floats, strings and booleans
are refused), currencies are known ISO 4217 codes, every string is bounded and free
of NUL and unpaired surrogates (PostgreSQL cannot store them), ids fit a 32-bit key.

``validation_problem(exc)`` turns a pydantic ``ValidationError`` into a 422
``ValidationProblem`` whose ``errors`` map each field path to its message; ``parse``
validates a plain mapping (a web form) the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from app.errors import ValidationProblem
from ledger.money import CURRENCY_EXPONENTS

MAX_MINOR = 10**13  # 100 billion in a two-decimal currency; fits every column comfortably
MAX_ID = 2**31 - 1


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A bounded string free of NUL and unpaired surrogates, ``Annotated[str, Text(120)]``;
    ``blank=False`` also refuses whitespace alone and strips the value.  One piece of
    pydantic metadata standing for the several it is (annotated-types' grouping)."""

    max_length: int
    min_length: int = 0
    blank: bool = True

    def __iter__(self) -> Iterator[object]:
        yield Field(min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_clean)
        if not self.blank:
            yield AfterValidator(_not_blank)


def _currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(f"unknown or unsupported ISO 4217 currency {code!r}")
    return code


Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["USD"]), AfterValidator(_currency)]


def unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat an item")
    return values


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(Strict):
    amount_minor: Annotated[StrictInt, Field(ge=0, le=MAX_MINOR, description="integer minor units, e.g. cents")]
    currency: Currency


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validation_problem(exc: ValidationError) -> ValidationProblem:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        message = error["msg"].removeprefix("Value error, ")
        path = _field_path(error["loc"])
        if error["type"] == "value_error" and ": " in message and path == "body":
            path, message = message.split(": ", 1)  # model-level checks name their field
        errors.setdefault(path, message)
    return ValidationProblem("The request has invalid fields.", errors=errors)


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: object) -> M:
    """Validate ``data`` (e.g. a web form's dict) into ``model`` or raise a 422 problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc) from None
