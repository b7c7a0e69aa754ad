"""The emulator's books: one :class:`AccountBook` per Stripe account.

Stripe scopes almost everything to an account: the platform's own objects and
balance, and — addressed with the ``Stripe-Account`` header — each connected
account's. The :class:`Store` holds one book per account id; the platform's book
also holds the ``account`` objects of the connected accounts (they are listed
through the platform's ``/v1/accounts``).

Every object lives in its book's ``objects`` dict in creation order, whatever its
type; lists filter by ``object`` type and walk it newest-first, so pagination is
stable even when a controlled clock gives many objects the same ``created``.
Balances change only through :func:`stripe_emulator.resources.balance.post_transaction`.

The store is plain JSON data, so ``--state-file`` persistence is a dump/load.
Locking is the caller's: the :class:`~stripe_emulator.emulator.Emulator` holds one
lock around every request.
"""

from __future__ import annotations

import json
import os
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Clock = Callable[[], int]
PLATFORM_ACCOUNT_ID = "acct_1EmulatorPlatform"
_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    """Stripe-looking ids (``tr_1…``): a prefix and 24 random alphanumerics."""

    def __init__(self, seed: int | None = None):
        self._random = random.Random(seed)

    def new(self, prefix: str) -> str:
        return f"{prefix}_1" + "".join(self._random.choice(_ALPHABET) for _ in range(23))


@dataclass
class AccountBook:
    """One Stripe account's objects and balances (integer minor units)."""

    id: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    available: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    maturing: list[str] = field(default_factory=list)  # ids of balance transactions still pending

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, object_id: str, object_type: str | None = None) -> dict[str, Any] | None:
        obj = self.objects.get(object_id)
        if obj is None or (object_type and obj.get("object") != object_type):
            return None
        return obj

    def newest_first(self, object_type: str) -> Iterator[dict[str, Any]]:
        for obj in reversed(list(self.objects.values())):
            if obj.get("object") == object_type:
                yield obj

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "objects": list(self.objects.values()),
            "available": self.available,
            "pending": self.pending,
            "maturing": self.maturing,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountBook:
        return cls(
            id=data["id"],
            objects={o["id"]: o for o in data["objects"]},
            available=dict(data["available"]),
            pending=dict(data["pending"]),
            maturing=list(data.get("maturing", [])),
        )


@dataclass
class Store:
    """All books plus the platform's id; JSON round-trippable."""

    platform_id: str = PLATFORM_ACCOUNT_ID
    books: dict[str, AccountBook] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.books.setdefault(self.platform_id, AccountBook(self.platform_id))

    @property
    def platform(self) -> AccountBook:
        return self.books[self.platform_id]

    def book(self, account_id: str | None) -> AccountBook | None:
        """The book of ``account_id`` (``None`` = platform); ``None`` if unknown."""
        return self.books.get(account_id or self.platform_id)

    def open_book(self, account_id: str) -> AccountBook:
        return self.books.setdefault(account_id, AccountBook(account_id))

    def find_anywhere(self, object_id: str) -> tuple[AccountBook, dict[str, Any]] | None:
        for book in self.books.values():
            obj = book.objects.get(object_id)
            if obj is not None:
                return book, obj
        return None

    def to_json(self) -> dict[str, Any]:
        return {"platform_id": self.platform_id, "books": [book.to_json() for book in self.books.values()]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Store:
        books = {b["id"]: AccountBook.from_json(b) for b in data["books"]}
        return cls(platform_id=data["platform_id"], books=books)

    def save(self, path: Path) -> None:
        """Atomic write: a crash never leaves half a state file."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.to_json()))
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> Store:
        return cls.from_json(json.loads(path.read_text()))
