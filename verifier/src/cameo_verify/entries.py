"""Ledger entries as an archive carries them (docs/formats/entries.md).

An entry's ``content`` is the document the ledger hashes (``ledger/canonical.py``):
``idempotency_key, kind, effective_at, memo, metadata, reverses, postings`` — the
postings as ``[account code, signed amount, currency]`` sorted — written as canonical
JSON.  Its ``content_hash`` is the sha256 of those bytes, and its chain link binds it
to its place in the book::

    hash = sha256(ascii(prev_hash "|" seq "|" posted_at "|" content_hash))

(hex digests, ``seq`` in decimal, ``posted_at`` exactly as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``).
The checkpoint tree's leaf for the entry is ``sha256(0x00 || the 32 bytes of hash)``.
So a verifier holding the content recomputes every hash itself; it trusts nothing the
archive says about them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .encoding import Invalid, canonical_json, field, hex64, is_int, parse_time
from .merkle import leaf_hash

GENESIS_HASH = "0" * 64
CONTENT_FIELDS = ("effective_at", "idempotency_key", "kind", "memo", "metadata", "postings", "reverses")
ISO_UTC_MICROS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int  # minor units; + debit, - credit
    currency: str


@dataclass(frozen=True)
class SealedEntry:
    seq: int
    prev_hash: str
    posted_at: str
    content: dict[str, Any]
    postings: tuple[Posting, ...]
    effective_at: datetime
    content_hash: str  # recomputed from ``content``
    hash: str  # the chain link, recomputed

    @property
    def leaf(self) -> bytes:
        """The entry's leaf in the checkpoint tree."""
        return leaf_hash(bytes.fromhex(self.hash))

    @property
    def kind(self) -> str:
        return self.content["kind"]

    @property
    def metadata(self) -> dict[str, Any]:
        return self.content["metadata"]


def content_bytes(content: dict[str, Any]) -> bytes:
    """The canonical bytes of an entry's content (postings sorted, as the ledger hashes them)."""
    return canonical_json({**content, "postings": sorted(content["postings"])})


def chain_link(prev_hash: str, seq: int, posted_at: str, content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{seq}|{posted_at}|{content_hash}".encode("ascii")).hexdigest()


def _postings(raw: Any) -> tuple[Posting, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise Invalid("an entry has at least two postings")
    postings = []
    for item in raw:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and isinstance(item[0], str)
            and is_int(item[1])
            and isinstance(item[2], str)
            and CURRENCY.fullmatch(item[2])
        ):
            raise Invalid("a posting is [account code, integer amount, currency]")
        if item[1] == 0:
            raise Invalid("a posting of zero")
        postings.append(Posting(*item))
    for currency in {p.currency for p in postings}:
        if sum(p.amount for p in postings if p.currency == currency) != 0:
            raise Invalid(f"the postings in {currency} do not sum to zero")
    return tuple(postings)


def read_entry(document: Any, seq: int) -> SealedEntry:
    """An entry as carried in a statement line (``seq`` is the line's); Invalid when its hashes disagree."""
    if not isinstance(document, dict):
        raise Invalid("the entry is not an object")
    what = f"entry {seq}"
    prev_hash = hex64(document.get("prev_hash"), f"{what}: prev_hash")
    posted_at = field(document, "posted_at", str, what)
    if not ISO_UTC_MICROS.fullmatch(posted_at):
        raise Invalid(f"{what}: posted_at must be written YYYY-MM-DDTHH:MM:SS.ffffffZ")
    content = field(document, "content", dict, what)
    if tuple(sorted(content)) != CONTENT_FIELDS:
        raise Invalid(f"{what}: content has exactly the fields {', '.join(CONTENT_FIELDS)}")
    for name in ("idempotency_key", "kind", "memo", "effective_at"):
        field(content, name, str, what)
    field(content, "metadata", dict, what)
    if content["reverses"] is not None and not is_int(content["reverses"]):
        raise Invalid(f"{what}: reverses is a seq or null")
    if not ISO_UTC_MICROS.fullmatch(content["effective_at"]):
        raise Invalid(f"{what}: effective_at must be written YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        postings = _postings(content["postings"])
    except Invalid as problem:
        raise problem.at(what) from None
    computed = hashlib.sha256(content_bytes(content)).hexdigest()
    claimed = hex64(document.get("content_hash"), f"{what}: content_hash")
    if claimed != computed:
        raise Invalid(f"{what}: content_hash {claimed} does not match its content ({computed})")
    return SealedEntry(
        seq,
        prev_hash,
        posted_at,
        content,
        postings,
        parse_time(content["effective_at"], f"{what}: effective_at"),
        computed,
        chain_link(prev_hash, seq, posted_at, computed),
    )
