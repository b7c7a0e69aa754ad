"""Worked examples: every money flow of DESIGN §3, read line by line.

Each test states the business facts, then the exact entry the recipe must produce
(account, debit +, credit −).  Commission is 20 % unless the example says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest

from app.books import kinds
from app.books.recipes import (
    Owner,
    derivative_use,
    holdback_to_reserve,
    licence_sale,
    payout_transfer,
    refund,
    reserve_release,
    reversal,
    split,
    usage_invoice_paid,
)
from ledger import Line, MoneyError, PostedEntry
from ledger.book import validate_draft

T = datetime(2026, 10, 3, 9, 30, tzinfo=UTC)


def lines(draft):
    validate_draft(draft)  # every example must also be a valid, balanced entry
    return sorted((l.account, l.amount) for l in draft.lines)


def test_licence_sale_single_owner():
    # A brand pays a 1,000.00 USD licence fee; Stripe keeps 29.30; the platform takes 20 %.
    draft = licence_sale(
        key="sale:1",
        effective_at=T,
        currency="USD",
        gross=100_000,
        stripe_fee=2_930,
        commission_bps=2000,
        owners=[Owner(42, 10_000)],
    )
    assert draft.kind == "licence.sale"
    assert lines(draft) == sorted(
        [
            ("platform:stripe:USD", 97_070),  # Dr cash at Stripe, net of fee
            ("platform:fees:stripe:USD", 2_930),  # Dr Stripe fee expense
            ("creator:42:payable:USD", -80_000),  # Cr creator: G − C
            ("platform:revenue:commission:USD", -20_000),  # Cr commission C
        ]
    )


def test_licence_sale_mutual_cameo_splits_by_largest_remainder():
    # 10.01 USD, 15 % commission = 1.5015 → 1.50 (half-even); 8.51 split in thirds: 2.84, 2.84, 2.83.
    draft = licence_sale(
        key="sale:2",
        effective_at=T,
        currency="USD",
        gross=1_001,
        stripe_fee=59,
        commission_bps=1500,
        owners=[Owner(1, 3334), Owner(2, 3333), Owner(3, 3333)],
    )
    assert lines(draft) == sorted(
        [
            ("platform:stripe:USD", 942),
            ("platform:fees:stripe:USD", 59),
            ("creator:1:payable:USD", -284),
            ("creator:2:payable:USD", -284),
            ("creator:3:payable:USD", -283),
            ("platform:revenue:commission:USD", -150),
        ]
    )


def test_commission_rounds_half_even_and_creator_takes_the_remainder():
    # 0.25 at 10 %: 2.5 cents → 2 (even); 0.35 at 10 %: 3.5 → 4 (even).
    assert split(25, 1000, [Owner(1, 1)]).commission == 2
    assert split(25, 1000, [Owner(1, 1)]).owners == ((1, 23),)
    assert split(35, 1000, [Owner(1, 1)]).commission == 4
    assert split(35, 1000, [Owner(1, 1)]).owners == ((1, 31),)


def test_zero_fee_and_zero_commission_lines_are_dropped():
    draft = licence_sale(
        key="sale:3", effective_at=T, currency="JPY", gross=5_000, stripe_fee=0, commission_bps=0, owners=[Owner(7, 1)]
    )
    assert lines(draft) == sorted([("platform:stripe:JPY", 5_000), ("creator:7:payable:JPY", -5_000)])


def test_derivative_use_billed_to_the_brand():
    # One render at 2.50 EUR: brand owes 2.50; creator earns 2.00; commission 0.50.
    draft = derivative_use(
        key="use:9",
        effective_at=T,
        currency="EUR",
        price=250,
        commission_bps=2000,
        brand_id=5,
        owners=[Owner(42, 10_000)],
    )
    assert draft.kind == "usage.royalty"
    assert lines(draft) == sorted(
        [
            ("brand:5:receivable:EUR", 250),
            ("creator:42:payable:EUR", -200),
            ("platform:revenue:commission:EUR", -50),
        ]
    )


def test_usage_invoice_paid_clears_the_receivable():
    draft = usage_invoice_paid(key="inv:1", effective_at=T, currency="USD", amount=12_500, stripe_fee=393, brand_id=5)
    assert lines(draft) == sorted(
        [
            ("platform:stripe:USD", 12_107),
            ("platform:fees:stripe:USD", 393),
            ("brand:5:receivable:USD", -12_500),
        ]
    )


def test_holdback_to_reserve_and_release_mirror_each_other():
    hold = holdback_to_reserve(key="hold:1", effective_at=T, currency="USD", amount=1_000, creator_id=42)
    release = reserve_release(key="rel:1", effective_at=T, currency="USD", amount=1_000, creator_id=42)
    assert lines(hold) == sorted([("creator:42:payable:USD", 1_000), ("creator:42:reserve:USD", -1_000)])
    assert lines(release) == sorted([("creator:42:reserve:USD", 1_000), ("creator:42:payable:USD", -1_000)])


def test_payout_transfer():
    draft = payout_transfer(key="payout:item:17", effective_at=T, currency="USD", amount=80_000, creator_id=42)
    assert lines(draft) == sorted([("creator:42:payable:USD", 80_000), ("platform:stripe:USD", -80_000)])


def test_full_refund_mirrors_the_sale_split_and_the_platform_bears_the_fee():
    sale = split(100_000, 2000, [Owner(42, 10_000)])
    draft = refund(
        key="refund:1", effective_at=T, currency="USD", amount=100_000, original=sale, payable_available={42: 80_000}
    )
    assert lines(draft) == sorted(
        [
            ("platform:revenue:commission:USD", 20_000),
            ("creator:42:payable:USD", 80_000),
            ("platform:stripe:USD", -100_000),
        ]
    )


def test_partial_refund_after_payout_moves_the_shortfall_to_recoverable():
    # Half of a 100.00 sale is refunded after the creator was paid out all but 10.00.
    sale = split(10_000, 2000, [Owner(1, 5000), Owner(2, 5000)])  # commission 20.00; 40.00 each
    draft = refund(
        key="refund:2",
        effective_at=T,
        currency="USD",
        amount=5_000,
        original=sale,
        payable_available={1: 1_000, 2: 4_000},
    )
    assert lines(draft) == sorted(
        [
            ("platform:revenue:commission:USD", 1_000),
            ("creator:1:payable:USD", 1_000),
            ("creator:1:recoverable:USD", 1_000),  # creator 1 owes 10.00, recovered later
            ("creator:2:payable:USD", 2_000),
            ("platform:stripe:USD", -5_000),
        ]
    )


def test_dispute_adds_stripe_dispute_fee():
    sale = split(10_000, 2000, [Owner(1, 1)])
    draft = refund(
        key="dispute:1",
        effective_at=T,
        currency="USD",
        amount=10_000,
        original=sale,
        payable_available={1: 8_000},
        dispute_fee=1_500,
        kind=kinds.LICENCE_DISPUTE,
    )
    assert draft.kind == "licence.dispute"
    assert lines(draft) == sorted(
        [
            ("platform:revenue:commission:USD", 2_000),
            ("creator:1:payable:USD", 8_000),
            ("platform:fees:stripe:USD", 1_500),
            ("platform:stripe:USD", -11_500),
        ]
    )


def test_reversal_negates_every_posting_and_points_at_the_original():
    original = PostedEntry(
        seq=12,
        idempotency_key="payout:item:17",
        kind="payout.transfer",
        effective_at=T,
        posted_at=T,
        memo="",
        meta={},
        reverses_seq=None,
        content_hash="x",
        lines=(Line("creator:42:payable:USD", 80_000, "USD"), Line("platform:stripe:USD", -80_000, "USD")),
    )
    draft = reversal(original, idempotency_key="payout:item:17:reversed", effective_at=T)
    assert draft.reverses_seq == 12 and draft.kind == "reversal"
    assert lines(draft) == sorted([("creator:42:payable:USD", -80_000), ("platform:stripe:USD", 80_000)])


@pytest.mark.parametrize(
    "kwargs", [dict(gross=-1, stripe_fee=0), dict(gross=100, stripe_fee=101), dict(gross=100, stripe_fee=-1)]
)
def test_sale_rejects_impossible_amounts(kwargs):
    with pytest.raises(MoneyError):
        licence_sale(key="k", effective_at=T, currency="USD", commission_bps=2000, owners=[Owner(1, 1)], **kwargs)


def test_refund_cannot_exceed_the_original():
    with pytest.raises(MoneyError):
        refund(
            key="k",
            effective_at=T,
            currency="USD",
            amount=10_001,
            original=split(10_000, 2000, [Owner(1, 1)]),
            payable_available={},
        )
