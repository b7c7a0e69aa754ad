"""The chart of accounts: which codes exist and how each kind of account behaves.

Codes are structured text, ``owner:id:purpose:CURRENCY``, so a code alone says what
an account is.  ``spec_for(code)`` derives type, currency, the non-negative rule and
the number of balance shards from the code; ``open_accounts`` opens whatever a set
of drafts needs.  House accounts are touched by every sale and every use, so they
get sharded balance rows (see ledger.book) and may go negative.  A creator's payable
and a brand's receivable are guarded (never below zero) and touched by every use of
that creator's cameos and that brand's licences, so they are sharded too: what they
earn or owe spreads over the shards, and a payout or payment folds the shards and
checks the guard against the whole balance.  Reserves and recoverables keep one row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.book import AccountDefinition, EntryDraft, Ledger
from ledger.errors import UnknownAccount
from ledger.money import CURRENCY_EXPONENTS

# Every entry about a licence names it in its metadata; the ledger indexes it as the
# entry's subject (ledger.models), so queries by licence need not read JSON.
SUBJECT_KEY = "licence_id"
HOT_SHARDS = 16
USER_SHARDS = 8  # a brand sending uses in parallel, a creator licensed by many brands


@dataclass(frozen=True)
class AccountSpec:
    code: str
    type: str
    currency: str
    allow_negative: bool
    shards: int
    name: str


# pattern → (type, allow_negative, shards, human name template)
_RULES: tuple[tuple[re.Pattern[str], str, bool, int, str], ...] = tuple(
    (re.compile(pattern), type_, allow_negative, shards, name)
    for pattern, type_, allow_negative, shards, name in (
        (r"platform:stripe:(?P<cur>[A-Z]{3})", "asset", True, HOT_SHARDS, "Stripe balance"),
        (r"platform:fees:stripe:(?P<cur>[A-Z]{3})", "expense", True, HOT_SHARDS, "Stripe fees"),
        (r"platform:revenue:commission:(?P<cur>[A-Z]{3})", "revenue", True, HOT_SHARDS, "Commission revenue"),
        (r"creator:(?P<id>\d+):payable:(?P<cur>[A-Z]{3})", "liability", False, USER_SHARDS, "Payable to creator {id}"),
        (r"creator:(?P<id>\d+):reserve:(?P<cur>[A-Z]{3})", "liability", False, 1, "Reserve held for creator {id}"),
        (r"creator:(?P<id>\d+):recoverable:(?P<cur>[A-Z]{3})", "asset", False, 1, "Due from creator {id}"),
        (r"brand:(?P<id>\d+):receivable:(?P<cur>[A-Z]{3})", "asset", False, USER_SHARDS, "Receivable from brand {id}"),
        (r"brand:(?P<id>\d+):advance:(?P<cur>[A-Z]{3})", "liability", False, 1, "Advance from brand {id}"),
    )
)


def stripe_clearing(cur: str) -> str:
    return f"platform:stripe:{cur}"


def stripe_fees(cur: str) -> str:
    return f"platform:fees:stripe:{cur}"


def commission_revenue(cur: str) -> str:
    return f"platform:revenue:commission:{cur}"


def codes_like(owner: str, purpose: str) -> str:
    """A SQL LIKE pattern for every ``owner``'s ``purpose`` account, e.g. all creators' payables."""
    return f"{owner}:%:{purpose}:___"


def creator_payable(creator_id: int, cur: str) -> str:
    return f"creator:{creator_id}:payable:{cur}"


def creator_reserve(creator_id: int, cur: str) -> str:
    return f"creator:{creator_id}:reserve:{cur}"


def creator_recoverable(creator_id: int, cur: str) -> str:
    return f"creator:{creator_id}:recoverable:{cur}"


def brand_receivable(brand_id: int, cur: str) -> str:
    return f"brand:{brand_id}:receivable:{cur}"


def brand_advance(brand_id: int, cur: str) -> str:
    """What a brand paid in advance (a minimum guarantee) and its uses have not recouped yet."""
    return f"brand:{brand_id}:advance:{cur}"


def house_accounts(currency: str) -> list[str]:
    return [stripe_clearing(currency), stripe_fees(currency), commission_revenue(currency)]


@dataclass(frozen=True)
class Code:
    """What an account code says: whose account (``platform``, ``creator`` or ``brand``
    with its id), what for (``payable``, ``reserve``, ``recoverable``, ``receivable``,
    ``advance``, ``stripe``, ``fees:stripe``, ``revenue:commission``) and in which currency."""

    owner: str
    owner_id: int | None
    purpose: str
    currency: str


def parse(code: str) -> Code | None:
    """Read a code of this chart (None for anything else); a split, not a pattern match,
    because reports read every account's code."""
    parts = code.split(":")
    if len(parts) < 3:
        return None
    if parts[0] in ("creator", "brand") and len(parts) == 4 and parts[1].isdigit():
        return Code(parts[0], int(parts[1]), parts[2], parts[3])
    if parts[0] == "platform":
        return Code("platform", None, ":".join(parts[1:-1]), parts[-1])
    return None


@dataclass(frozen=True)
class CreatorAccount:
    """A creator's account code, read: whose, what for, which currency."""

    owner_id: int
    purpose: str
    currency: str


def creator_account(code: str, *purposes: str) -> CreatorAccount | None:
    """The parsed code if it is a creator's account for one of ``purposes``."""
    found = parse(code)
    if found is None or found.owner != "creator" or found.owner_id is None or found.purpose not in purposes:
        return None
    return CreatorAccount(found.owner_id, found.purpose, found.currency)


def spec_for(code: str) -> AccountSpec:
    for pattern, type_, allow_negative, shards, name in _RULES:
        match = pattern.fullmatch(code)
        if match and match["cur"] in CURRENCY_EXPONENTS:
            return AccountSpec(
                code,
                type_,
                match["cur"],
                allow_negative,
                shards,
                name.format(**match.groupdict()) + f" ({match['cur']})",
            )
    raise UnknownAccount(f"{code!r} is not an account of the chart")


def open_accounts(ledger: Ledger, session: Session, codes: Iterable[str]) -> None:
    """Open every account in ``codes`` that does not exist yet, as the chart defines it."""
    codes = set(codes)
    missing = codes - set(ledger.accounts(session, codes))
    if missing:
        ledger.open_accounts(session, [_definition(code) for code in sorted(missing)])


def _definition(code: str) -> AccountDefinition:
    spec = spec_for(code)
    return AccountDefinition(code, spec.type, spec.currency, spec.allow_negative, spec.shards, spec.name)


def open_accounts_for(ledger: Ledger, session: Session, drafts: Iterable[EntryDraft]) -> None:
    open_accounts(ledger, session, (line.account for d in drafts for line in d.lines))
