"""The money flows of DESIGN §3 as pure functions from business facts to entry drafts.

Nothing here touches a database; each recipe returns an ``EntryDraft`` whose lines a
worked-example test can read line by line.  Conventions:

* amounts are minor units; commission is ``commission_bps`` basis points of the
  price, half-even rounded; the creators' side is the remainder, so
  ``creators + commission == price`` exactly;
* co-owners of a mutual cameo split the creators' side by integer shares with the
  largest-remainder method (``ledger.money.allocate``);
* zero lines are dropped (a zero fee, a 0 % commission, an owner whose part rounds
  to nothing), and lines on the same account are merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.book import EntryDraft, Line, reversal_draft
from ledger.money import MoneyError, allocate, check_minor, commission

from . import chart, kinds
from .kinds import EntryKind


@dataclass(frozen=True)
class Owner:
    creator_id: int
    share: int  # integer weight, e.g. basis points of ownership


@dataclass(frozen=True)
class Split:
    """How a price divides between the platform and each owner."""

    price: int
    commission: int
    owners: tuple[tuple[int, int], ...]  # (creator_id, amount)

    @property
    def creators_total(self) -> int:
        return sum(amount for _, amount in self.owners)


def split(price: int, commission_bps: int, owners: Sequence[Owner]) -> Split:
    check_minor(price)
    if price < 0:
        raise MoneyError("a price cannot be negative")
    if not owners:
        raise MoneyError("a cameo needs at least one owner")
    cut = commission(price, commission_bps)
    parts = allocate(price - cut, [o.share for o in owners])
    return Split(price, cut, tuple((o.creator_id, part) for o, part in zip(owners, parts, strict=True)))


def _draft(
    key: str,
    kind: str,
    effective_at: datetime,
    lines: Sequence[tuple[str, int, str]],
    memo: str,
    meta: Mapping[str, Any] | None,
) -> EntryDraft:
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for account, amount, currency in lines:
        merged[(account, currency)] += amount
    return EntryDraft(
        idempotency_key=key,
        kind=kind,
        effective_at=effective_at,
        memo=memo,
        meta=dict(meta or {}),
        lines=tuple(Line(a, amt, cur) for (a, cur), amt in merged.items() if amt != 0),
    )


def _credit_owners(parts: Split, currency: str) -> list[tuple[str, int, str]]:
    return [(chart.creator_payable(cid, currency), -amount, currency) for cid, amount in parts.owners]


def licence_sale(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    gross: int,
    stripe_fee: int,
    commission_bps: int,
    owners: Sequence[Owner],
    advance: int = 0,
    brand_id: int | None = None,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """Licence fee paid through Stripe: cash net of fee, fee expensed, split credited.

    With an ``advance`` (a minimum guarantee paid with the fee, in the same charge) the
    cash is ``gross + advance − fee`` and the advance is the brand's, not yet anybody's
    earning: ``brand:Y:advance`` (a liability) until uses recoup it or the licence ends."""
    parts = split(gross, commission_bps, owners)
    if check_minor(advance) < 0 or (advance and brand_id is None):
        raise MoneyError("an advance is a non-negative amount paid by a brand")
    if not 0 <= check_minor(stripe_fee) <= gross + advance:
        raise MoneyError("the Stripe fee must be between 0 and the amount charged")
    lines = [
        (chart.stripe_clearing(currency), gross + advance - stripe_fee, currency),
        (chart.stripe_fees(currency), stripe_fee, currency),
        *_credit_owners(parts, currency),
        (chart.commission_revenue(currency), -parts.commission, currency),
    ]
    if advance:
        lines.append((chart.brand_advance(brand_id or 0, currency), -advance, currency))
    return _draft(key, kinds.LICENCE_SALE.name, effective_at, lines, memo or "licence fee", meta)


def derivative_use(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    price: int,
    commission_bps: int,
    brand_id: int,
    owners: Sequence[Owner],
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """A metered use billed to the brand: receivable against the owners' payable and commission."""
    return derivative_uses(
        key=key,
        effective_at=effective_at,
        currency=currency,
        prices={price: 1},
        commission_bps=commission_bps,
        brand_id=brand_id,
        owners=owners,
        memo=memo or "derivative use",
        meta=meta,
    )


def derivative_uses(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    prices: Mapping[int, int],
    commission_bps: int,
    brand_id: int,
    owners: Sequence[Owner],
    from_advance: int = 0,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """Several metered uses of one licence as one entry; ``prices`` maps each price to
    how many uses had it.  Every use is split on its own — its commission rounded, its
    owners' parts allocated — exactly as ``derivative_use`` would, and the entry posts
    the sums: a use is worth the same to everyone whether it came alone or in a batch.

    ``from_advance`` of the total is recouped from the brand's advance on the licence
    (``brand:Y:advance``) instead of being billed to its receivable: the creators and
    the platform earn the same either way; only who owes the price changes."""
    if not prices or any(count < 1 for count in prices.values()):
        raise MoneyError("derivative uses need at least one use of each price")
    total = sum(price * count for price, count in prices.items())
    if not 0 <= check_minor(from_advance) <= total:
        raise MoneyError("an advance can recoup at most the price of the uses")
    lines: list[tuple[str, int, str]] = [
        (chart.brand_receivable(brand_id, currency), total - from_advance, currency),
        (chart.brand_advance(brand_id, currency), from_advance, currency),
    ]
    for price, count in prices.items():
        parts = split(price, commission_bps, owners)
        lines.extend((account, amount * count, cur) for account, amount, cur in _credit_owners(parts, currency))
        lines.append((chart.commission_revenue(currency), -parts.commission * count, currency))
    return _draft(key, kinds.USAGE_ROYALTY.name, effective_at, lines, memo or "derivative uses", meta)


def advance_earned(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    commission_bps: int,
    brand_id: int,
    owners: Sequence[Owner],
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """At a licence's end, the part of its advance that uses did not recoup is earned: the
    brand's advance is split like a sale (commission, owners by share)."""
    if check_minor(amount) <= 0:
        raise MoneyError("an earned advance must be positive")
    parts = split(amount, commission_bps, owners)
    return _draft(
        key,
        kinds.ADVANCE_EARNED.name,
        effective_at,
        [
            (chart.brand_advance(brand_id, currency), amount, currency),
            *_credit_owners(parts, currency),
            (chart.commission_revenue(currency), -parts.commission, currency),
        ],
        memo or "unrecouped advance earned",
        meta,
    )


def refund_recovered(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    creator_id: int,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """Money a creator owes after a refund of money already paid out (``recoverable``) is
    netted against what they earned since: their payable goes down, so does what they owe."""
    if check_minor(amount) <= 0:
        raise MoneyError("a recovered amount must be positive")
    return _draft(
        key,
        kinds.REFUND_RECOVERED.name,
        effective_at,
        [
            (chart.creator_payable(creator_id, currency), amount, currency),
            (chart.creator_recoverable(creator_id, currency), -amount, currency),
        ],
        memo or "recovered from an earlier refund",
        meta,
    )


def usage_invoice_paid(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    stripe_fee: int,
    brand_id: int,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    if not 0 <= check_minor(stripe_fee) <= amount:
        raise MoneyError("the Stripe fee must be between 0 and the amount paid")
    return _draft(
        key,
        kinds.USAGE_INVOICE_PAID.name,
        effective_at,
        [
            (chart.stripe_clearing(currency), amount - stripe_fee, currency),
            (chart.stripe_fees(currency), stripe_fee, currency),
            (chart.brand_receivable(brand_id, currency), -amount, currency),
        ],
        memo or "usage invoice paid",
        meta,
    )


def holdback_to_reserve(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    creator_id: int,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    return _draft(
        key,
        kinds.RESERVE_HOLD.name,
        effective_at,
        [
            (chart.creator_payable(creator_id, currency), amount, currency),
            (chart.creator_reserve(creator_id, currency), -amount, currency),
        ],
        memo or "holdback moved to reserve",
        meta,
    )


def reserve_release(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    creator_id: int,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    return _draft(
        key,
        kinds.RESERVE_RELEASE.name,
        effective_at,
        [
            (chart.creator_reserve(creator_id, currency), amount, currency),
            (chart.creator_payable(creator_id, currency), -amount, currency),
        ],
        memo or "reserve released",
        meta,
    )


def payout_transfer(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    creator_id: int,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """Money leaves the platform's Stripe balance for the creator's connected account."""
    return _draft(
        key,
        kinds.PAYOUT_TRANSFER.name,
        effective_at,
        [
            (chart.creator_payable(creator_id, currency), amount, currency),
            (chart.stripe_clearing(currency), -amount, currency),
        ],
        memo or "payout transfer",
        meta,
    )


def refund(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    original: Split,
    payable_available: Mapping[int, int],
    dispute_fee: int = 0,
    from_advance: int = 0,
    brand_id: int | None = None,
    kind: EntryKind = kinds.LICENCE_REFUND,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """Refund (or dispute) ``amount`` of a sale whose split was ``original``.

    The refund takes back commission and each owner's part in proportion to the
    original split (a full refund mirrors it exactly).  Stripe keeps its original fee,
    so the platform bears it; a dispute adds Stripe's dispute fee.  An owner whose
    payable has already been paid out cannot go below zero (invariant 4): the part
    their payable cannot cover becomes ``creator:X:recoverable``, money the creator
    owes, recovered from later earnings.

    When the payment included an advance, ``from_advance`` of the amount comes back
    out of the brand's unrecouped advance (nobody earned it yet); the rest is the sale's.
    """
    if not 0 <= check_minor(from_advance) <= amount or (from_advance and brand_id is None):
        raise MoneyError("the advance's part of a refund is between 0 and the refund, and names the brand")
    sale_part = amount - from_advance
    if not check_minor(amount) > 0 or sale_part > original.price:
        raise MoneyError("a refund must be positive and at most the original amount")
    weights = [original.commission, *(part for _, part in original.owners)]
    taken = allocate(sale_part, weights) if sum(weights) and sale_part else [0] * len(weights)
    lines: list[tuple[str, int, str]] = [(chart.commission_revenue(currency), taken[0], currency)]
    if from_advance:
        lines.append((chart.brand_advance(brand_id or 0, currency), from_advance, currency))
    for (creator_id, _), part in zip(original.owners, taken[1:], strict=True):
        from_payable = max(0, min(part, payable_available.get(creator_id, 0)))
        lines.append((chart.creator_payable(creator_id, currency), from_payable, currency))
        lines.append((chart.creator_recoverable(creator_id, currency), part - from_payable, currency))
    lines.append((chart.stripe_clearing(currency), -amount, currency))
    if check_minor(dispute_fee):
        lines += [
            (chart.stripe_fees(currency), dispute_fee, currency),
            (chart.stripe_clearing(currency), -dispute_fee, currency),
        ]
    return _draft(key, kind.name, effective_at, lines, memo or "refund", meta)


def payout_partly_reversed(
    *,
    key: str,
    effective_at: datetime,
    currency: str,
    amount: int,
    creator_id: int,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """Part of a payout transfer came back: that part is the creator's payable again
    (a whole transfer reversed is ``reversal`` of its payout entry instead)."""
    if check_minor(amount) <= 0:
        raise MoneyError("a reversed amount must be positive")
    return _draft(
        key,
        kinds.PAYOUT_REVERSAL.name,
        effective_at,
        [
            (chart.stripe_clearing(currency), amount, currency),
            (chart.creator_payable(creator_id, currency), -amount, currency),
        ],
        memo or "payout partly reversed",
        meta,
    )


reversal = reversal_draft
