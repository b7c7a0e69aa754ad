"""Statements as an archive carries them (docs/formats/archive.md, "Statements").

A statement is one party's month in one currency: opening balances per bucket, one
line per entry that touched the party's accounts, closing balances.  Each line
carries its entry's full content, so every figure is checked against the ledger's
own postings, not against the platform's word:

* ``opening + Σ line changes = closing``, bucket by bucket;
* a line's change in a bucket is the entry's postings to that bucket's account,
  signed as the party reads it (money owed to the party is positive);
* the entry is effective inside the month and the line's section follows its kind;
* a use line names its receipts (checked against the receipts by the archive).

Inclusion proofs and receipts need the rest of the archive and are checked there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .encoding import Invalid, field, is_int
from .entries import SealedEntry, read_entry

STATEMENT_TYPE = "cameo-exchange/statement"
# bucket → sign that turns the ledger's signed postings (+ debit) into the party's view
BUCKETS: Mapping[str, Mapping[str, int]] = {
    "creator": {"payable": -1, "reserve": -1, "recoverable": 1},
    "brand": {"receivable": 1},
}
SECTION_BY_KIND = {
    "licence.sale": "sales",
    "usage.royalty": "uses",
    "reserve.hold": "reserve",
    "reserve.release": "reserve",
    "payout.transfer": "payouts",
    "licence.refund": "refunds",
    "licence.dispute": "refunds",
    "usage.invoice_paid": "payments",
}
USE_KIND = "usage.royalty"
PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def section_of(kind: str, metadata: Mapping[str, Any]) -> str:
    if kind == "reversal":
        return "payouts" if metadata.get("reversed_kind") == "payout.transfer" else "refunds"
    return SECTION_BY_KIND.get(kind, "other")


@dataclass(frozen=True)
class StatementLine:
    seq: int
    section: str
    change: Mapping[str, int]
    receipts: tuple[str, ...]
    entry: SealedEntry
    proof: Mapping[str, Any]


@dataclass(frozen=True)
class Statement:
    party_kind: str
    party_id: int
    period: str
    currency: str
    opening: Mapping[str, int]
    closing: Mapping[str, int]
    lines: tuple[StatementLine, ...]

    def account(self, bucket: str) -> str:
        return f"{self.party_kind}:{self.party_id}:{bucket}:{self.currency}"


def month_bounds(period: str) -> tuple[datetime, datetime]:
    found = PERIOD.fullmatch(period)
    if not found:
        raise Invalid(f"period {period!r} is not YYYY-MM")
    year, month = int(found[1]), int(found[2])
    start = datetime(year, month, 1, tzinfo=UTC)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _amounts(raw: Any, buckets: Mapping[str, int], what: str) -> dict[str, int]:
    if not isinstance(raw, dict) or set(raw) != set(buckets) or not all(is_int(v) for v in raw.values()):
        raise Invalid(f"{what} must give an integer for each of {', '.join(buckets)}")
    return dict(raw)


def read_statement(document: Any, name: str) -> Statement:
    """A statement whose figures add up and agree with the entries it carries; Invalid otherwise."""
    if not isinstance(document, dict) or document.get("typ") != STATEMENT_TYPE or document.get("v") != 1:
        raise Invalid(f"not a {STATEMENT_TYPE} of version 1")
    party = field(document, "party", dict, "the statement")
    kind, party_id = party.get("kind"), party.get("id")
    if kind not in BUCKETS or not is_int(party_id):
        raise Invalid("party must be {kind: creator|brand, id: integer}")
    buckets = BUCKETS[kind]
    period = field(document, "period", str, "the statement")
    currency = field(document, "currency", str, "the statement")
    start, end = month_bounds(period)
    if name != f"{period}-{currency}.json":
        raise Invalid(f"a statement of {period} in {currency} must be named {period}-{currency}.json")
    opening = _amounts(document.get("opening"), buckets, "opening")
    closing = _amounts(document.get("closing"), buckets, "closing")
    statement = Statement(kind, party_id, period, currency, opening, closing, ())
    lines, running, last = [], dict(opening), None
    for number, raw in enumerate(field(document, "lines", list, "the statement"), start=1):
        try:
            line = _line(raw, statement, buckets, start, end)
        except Invalid as problem:
            raise problem.at(f"line {number}") from None
        order = (line.entry.effective_at, line.seq)
        if last is not None and order <= last:
            raise Invalid(f"line {number} (entry {line.seq}) is out of order (lines go by effective time, then seq)")
        last = order
        for bucket in buckets:
            running[bucket] += line.change[bucket]
        lines.append(line)
    for bucket in buckets:
        if running[bucket] != closing[bucket]:
            raise Invalid(
                f"{bucket}: opening {opening[bucket]} + lines {running[bucket] - opening[bucket]} = "
                f"{running[bucket]}, but closing says {closing[bucket]}"
            )
    return Statement(kind, party_id, period, currency, opening, closing, tuple(lines))


def _line(raw: Any, statement: Statement, buckets: Mapping[str, int], start: datetime, end: datetime) -> StatementLine:
    if not isinstance(raw, dict):
        raise Invalid("not an object")
    seq = field(raw, "seq", int, "the line")
    entry = read_entry(raw.get("entry"), seq)
    if not start <= entry.effective_at < end:
        raise Invalid(f"entry {seq} is effective {entry.content['effective_at']}, outside {statement.period}")
    change = _amounts(raw.get("change"), buckets, f"entry {seq}: change")
    posted = {
        bucket: sign * sum(p.amount for p in entry.postings if p.account == statement.account(bucket))
        for bucket, sign in buckets.items()
    }
    if not any(p.account in {statement.account(b) for b in buckets} for p in entry.postings):
        raise Invalid(
            f"entry {seq} does not touch {statement.party_kind} {statement.party_id}'s {statement.currency} accounts"
        )
    for bucket in buckets:
        if change[bucket] != posted[bucket]:
            raise Invalid(
                f"entry {seq}: the line says {bucket} {change[bucket]:+d}, the entry's postings say {posted[bucket]:+d}"
            )
    section = field(raw, "section", str, f"entry {seq}")
    if section != section_of(entry.kind, entry.metadata):
        raise Invalid(
            f"entry {seq} is a {entry.kind}, which belongs in {section_of(entry.kind, entry.metadata)}, not {section}"
        )
    receipts = raw.get("receipts", [])
    if (
        not isinstance(receipts, list)
        or not all(isinstance(r, str) for r in receipts)
        or len(set(receipts)) != len(receipts)
    ):
        raise Invalid(f"entry {seq}: receipts must be a list of distinct receipt ids")
    if (entry.kind == USE_KIND) != bool(receipts):
        raise Invalid(f"entry {seq}: a use line names its receipts, and only a use line does")
    proof = field(raw, "proof", dict, f"entry {seq}")
    return StatementLine(seq, section, change, tuple(receipts), entry, proof)
