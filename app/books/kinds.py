"""The catalogue of entry kinds: every kind of journal entry the marketplace posts,
declared once with what the rest of the product needs to know about it.

``section``        where a creator's statement lists it (``SECTIONS``)
``earning``        it credits creators with what they earned (a licence sale, a metered
                   use): "earned" and "gross sales" in reports
``refund``         it takes earnings back (a refund, a dispute)
``payout``         it moves money out to creators, or back from them (a transfer, its
                   partial reversal): what a settlement period's "paid out" nets
``reserve``        it moves money between a creator's payable and reserve
``recovery``       it recovers money a creator owes (``recoverable``) from their payable
``stripe_object``  the Stripe object its cash movement is (``charge``, ``refund``,
                   ``dispute``, ``transfer``, ``transfer_reversal``); reconciliation
                   matches the ledger's cash against Stripe's balance transactions by it

The ledger's own correction kind, ``reversal``, mirrors the entry it reverses
(``meta["reversed_kind"]``): ``of_entry`` reads it as that kind, reversed.

Adding a money flow: declare its kind here, write its recipe (``app.books.recipes``),
and call the recipe from its own service — see docs/money-flows.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECTIONS = ("sales", "uses", "reserve", "refunds", "payouts", "other")
SECTION_TITLES = {
    "sales": "Licence sales",
    "uses": "Derivative uses",
    "reserve": "Reserve moves",
    "refunds": "Refunds, disputes and reversals",
    "payouts": "Payouts",
    "other": "Other",
}
# A Stripe object → the balance transaction type the same money shows up as on Stripe.
BALANCE_TYPES = {
    "charge": "charge",
    "refund": "refund",
    "dispute": "adjustment",
    "transfer": "transfer",
    "transfer_reversal": "transfer_refund",
}
REVERSAL = "reversal"  # ledger.reversal_draft's kind


@dataclass(frozen=True)
class EntryKind:
    name: str
    title: str
    section: str = "other"
    earning: bool = False
    refund: bool = False
    payout: bool = False
    reserve: bool = False
    recovery: bool = False
    stripe_object: str | None = None

    @property
    def balance_type(self) -> str:
        """The Stripe balance transaction type of this kind's cash movement ("other": none)."""
        return BALANCE_TYPES.get(self.stripe_object or "", "other")


LICENCE_SALE = EntryKind("licence.sale", "Licence sale", "sales", earning=True, stripe_object="charge")
USAGE_ROYALTY = EntryKind("usage.royalty", "Derivative use", "uses", earning=True)
USAGE_INVOICE_PAID = EntryKind("usage.invoice_paid", "Usage invoice paid", stripe_object="charge")
LICENCE_REFUND = EntryKind("licence.refund", "Licence refund", "refunds", refund=True, stripe_object="refund")
LICENCE_DISPUTE = EntryKind("licence.dispute", "Licence dispute", "refunds", refund=True, stripe_object="dispute")
RESERVE_HOLD = EntryKind("reserve.hold", "Held in reserve", "reserve", reserve=True)
RESERVE_RELEASE = EntryKind("reserve.release", "Released from reserve", "reserve", reserve=True)
PAYOUT_TRANSFER = EntryKind("payout.transfer", "Payout", "payouts", payout=True, stripe_object="transfer")
PAYOUT_REVERSAL = EntryKind(
    "payout.reversal", "Payout partly reversed", "payouts", payout=True, stripe_object="transfer_reversal"
)

# what the creators' share of an advance (minimum guarantee) the uses did not recoup
# earns at the licence's end; the advance itself is paid with the licence fee (``licence.sale``)
ADVANCE_EARNED = EntryKind("advance.earned", "Unrecouped advance earned", "sales", earning=True)
# a settlement run nets an earlier refund's recoverable against the creator's later earnings
REFUND_RECOVERED = EntryKind("refund.recovered", "Recovered from an earlier refund", "refunds", recovery=True)

KINDS: Mapping[str, EntryKind] = {
    k.name: k
    for k in (
        LICENCE_SALE,
        USAGE_ROYALTY,
        USAGE_INVOICE_PAID,
        LICENCE_REFUND,
        LICENCE_DISPUTE,
        RESERVE_HOLD,
        RESERVE_RELEASE,
        PAYOUT_TRANSFER,
        PAYOUT_REVERSAL,
        ADVANCE_EARNED,
        REFUND_RECOVERED,
    )
}
OTHER = EntryKind("other", "Other")


def kind(name: str) -> EntryKind:
    """The declared kind called ``name`` (``OTHER`` for a kind this catalogue does not know)."""
    return KINDS.get(name, OTHER)


def names(**flags: bool) -> tuple[str, ...]:
    """The names of the kinds with every given flag, e.g. ``names(payout=True)``."""
    return tuple(k.name for k in KINDS.values() if all(getattr(k, f) == v for f, v in flags.items()))


def with_stripe_object(*objects: str) -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.stripe_object in objects)


@dataclass(frozen=True)
class Classified:
    """An entry as the books read it: its declared kind, and whether it reverses one."""

    kind: EntryKind
    reversed: bool = False

    @property
    def section(self) -> str:
        """Reversed payouts stay with the payouts; any other reversal takes money back."""
        if self.reversed and not self.kind.payout:
            return "refunds"
        return self.kind.section

    @property
    def balance_type(self) -> str:
        """A reversed transfer comes back as a ``transfer_refund``; other reversals are their kind's."""
        if self.reversed and self.kind.stripe_object == "transfer":
            return BALANCE_TYPES["transfer_reversal"]
        return self.kind.balance_type


def of_entry(name: str, meta: Mapping[str, Any] | None) -> Classified:
    """Classify an entry by its kind and metadata (a ``reversal`` is read as the kind it reverses)."""
    if name == REVERSAL:
        return Classified(kind(str((meta or {}).get("reversed_kind", ""))), reversed=True)
    return Classified(kind(name))
