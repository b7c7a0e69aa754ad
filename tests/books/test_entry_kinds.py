"""The catalogue of entry kinds is the one place kinds are declared: every recipe writes
a declared kind, nothing outside the recipes builds an entry by hand, and the readers
(statements, reconciliation) classify through it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest

from app.books import kinds, recipes
from app.books.recipes import Owner

T = datetime(2026, 10, 1, tzinfo=UTC)
APP = Path(__file__).resolve().parents[2] / "app"
OWNERS = [Owner(1, 6_000), Owner(2, 4_000)]
SALE = recipes.split(10_000, 2000, OWNERS)

DRAFTS = {
    "licence_sale": lambda: recipes.licence_sale(
        key="k", effective_at=T, currency="USD", gross=10_000, stripe_fee=320, commission_bps=2000, owners=OWNERS
    ),
    "derivative_uses": lambda: recipes.derivative_uses(
        key="k", effective_at=T, currency="USD", prices={500: 2}, commission_bps=2000, brand_id=3, owners=OWNERS
    ),
    "usage_invoice_paid": lambda: recipes.usage_invoice_paid(
        key="k", effective_at=T, currency="USD", amount=1_000, stripe_fee=59, brand_id=3
    ),
    "holdback_to_reserve": lambda: recipes.holdback_to_reserve(
        key="k", effective_at=T, currency="USD", amount=5, creator_id=1
    ),
    "reserve_release": lambda: recipes.reserve_release(key="k", effective_at=T, currency="USD", amount=5, creator_id=1),
    "payout_transfer": lambda: recipes.payout_transfer(key="k", effective_at=T, currency="USD", amount=5, creator_id=1),
    "payout_partly_reversed": lambda: recipes.payout_partly_reversed(
        key="k", effective_at=T, currency="USD", amount=5, creator_id=1
    ),
    "refund": lambda: recipes.refund(
        key="k", effective_at=T, currency="USD", amount=10_000, original=SALE, payable_available={1: 10_000, 2: 10_000}
    ),
    "dispute": lambda: recipes.refund(
        key="k",
        effective_at=T,
        currency="USD",
        amount=10_000,
        original=SALE,
        payable_available={},
        dispute_fee=1_500,
        kind=kinds.LICENCE_DISPUTE,
    ),
    "advance_earned": lambda: recipes.advance_earned(
        key="k", effective_at=T, currency="USD", amount=5_000, commission_bps=2000, brand_id=3, owners=OWNERS
    ),
    "refund_recovered": lambda: recipes.refund_recovered(
        key="k", effective_at=T, currency="USD", amount=5, creator_id=1
    ),
}


@pytest.mark.parametrize("recipe", sorted(DRAFTS))
def test_every_recipe_writes_a_declared_kind(recipe):
    assert DRAFTS[recipe]().kind in kinds.KINDS


def test_every_declared_kind_has_a_recipe():
    assert {build().kind for build in DRAFTS.values()} == set(kinds.KINDS)


def test_only_the_recipes_build_entries_by_hand():
    builders = [
        str(path.relative_to(APP)) for path in APP.rglob("*.py") if re.search(r"\bEntryDraft\(", path.read_text())
    ]
    assert builders == ["books/recipes.py"]


def test_readers_classify_through_the_catalogue():
    assert kinds.of_entry("licence.sale", {}).section == "sales"
    assert kinds.of_entry("reversal", {"reversed_kind": "licence.sale"}).section == "refunds"
    assert kinds.of_entry("reversal", {"reversed_kind": "payout.transfer"}).section == "payouts"
    assert kinds.of_entry("something.new", {}).section == "other"
    # the Stripe balance transaction the cash of each kind shows up as
    assert kinds.of_entry("licence.sale", {}).balance_type == "charge"
    assert kinds.of_entry("usage.invoice_paid", {}).balance_type == "charge"
    assert kinds.of_entry("licence.dispute", {}).balance_type == "adjustment"
    assert kinds.of_entry("payout.transfer", {}).balance_type == "transfer"
    assert kinds.of_entry("reversal", {"reversed_kind": "payout.transfer"}).balance_type == "transfer_refund"
    assert kinds.of_entry("payout.reversal", {}).balance_type == "transfer_refund"
    assert kinds.names(payout=True) == ("payout.transfer", "payout.reversal")
    assert kinds.with_stripe_object("charge") == ("licence.sale", "usage.invoice_paid")
