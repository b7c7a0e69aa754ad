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
    advance_earned,
    derivative_use,
    derivative_uses,
    holdback_to_reserve,
    licence_sale,
    payout_transfer,
    refund,
    refund_recovered,
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


# -- advances (minimum guarantees) and recoveries ------------------------------------------------


def test_licence_fee_with_an_advance_keeps_the_advance_for_the_brand():
    # A brand pays 1,000.00 fee + 500.00 advance in one charge; Stripe keeps 43.80 of the 1,500.00.
    draft = licence_sale(
        key="sale:adv",
        effective_at=T,
        currency="USD",
        gross=100_000,
        stripe_fee=4_380,
        commission_bps=2000,
        owners=[Owner(42, 10_000)],
        advance=50_000,
        brand_id=5,
    )
    assert draft.kind == "licence.sale"
    assert lines(draft) == sorted(
        [
            ("platform:stripe:USD", 145_620),  # Dr cash: 1,500.00 − 43.80
            ("platform:fees:stripe:USD", 4_380),  # Dr fee, for the whole charge
            ("creator:42:payable:USD", -80_000),  # Cr creator: the fee's 80 %
            ("platform:revenue:commission:USD", -20_000),  # Cr commission on the fee only
            ("brand:5:advance:USD", -50_000),  # Cr the brand's advance: nobody has earned it yet
        ]
    )


def test_uses_recoup_the_advance_before_the_brand_is_billed():
    # Three renders at 2.50 EUR = 7.50; 6.00 is left of the advance: 6.00 recouped, 1.50 billed.
    draft = derivative_uses(
        key="use:adv",
        effective_at=T,
        currency="EUR",
        prices={250: 3},
        commission_bps=2000,
        brand_id=5,
        owners=[Owner(42, 10_000)],
        from_advance=600,
    )
    assert lines(draft) == sorted(
        [
            ("brand:5:advance:EUR", 600),  # Dr the advance: recouped
            ("brand:5:receivable:EUR", 150),  # Dr receivable: only what the advance did not cover
            ("creator:42:payable:EUR", -600),  # Cr creator: 3 × 2.00, the same as without an advance
            ("platform:revenue:commission:EUR", -150),  # Cr commission: 3 × 0.50
        ]
    )


def test_a_fully_recouped_use_bills_the_brand_nothing():
    draft = derivative_uses(
        key="use:adv2",
        effective_at=T,
        currency="USD",
        prices={1_000: 1},
        commission_bps=2000,
        brand_id=5,
        owners=[Owner(42, 10_000)],
        from_advance=1_000,
    )
    assert [line for line in lines(draft) if line[0].startswith("brand:5:receivable")] == []


def test_unrecouped_advance_is_earned_at_the_licence_end_like_a_sale():
    # 442.50 of a 500.00 advance was never recouped; two owners 60/40, 20 % commission.
    draft = advance_earned(
        key="advance-earned:7",
        effective_at=T,
        currency="USD",
        amount=44_250,
        commission_bps=2000,
        brand_id=5,
        owners=[Owner(1, 6_000), Owner(2, 4_000)],
    )
    assert draft.kind == "advance.earned"
    assert lines(draft) == sorted(
        [
            ("brand:5:advance:USD", 44_250),  # Dr the advance: now earned
            ("creator:1:payable:USD", -21_240),  # Cr 60 % of 354.00
            ("creator:2:payable:USD", -14_160),  # Cr 40 % of 354.00
            ("platform:revenue:commission:USD", -8_850),  # Cr 20 % of 442.50
        ]
    )


def test_a_refund_of_a_payment_with_an_advance_takes_the_unrecouped_advance_back_first():
    # Fee 100.00 (creator 80.00) + advance 50.00 paid; 30.00 of the advance is left; 60.00 refunded:
    # 30.00 from the advance, 30.00 from the fee's split (commission 6.00, creator 24.00).
    draft = refund(
        key="refund:adv",
        effective_at=T,
        currency="USD",
        amount=6_000,
        original=split(10_000, 2000, [Owner(42, 10_000)]),
        payable_available={42: 8_000},
        from_advance=3_000,
        brand_id=5,
    )
    assert lines(draft) == sorted(
        [
            ("brand:5:advance:USD", 3_000),
            ("platform:revenue:commission:USD", 600),
            ("creator:42:payable:USD", 2_400),
            ("platform:stripe:USD", -6_000),
        ]
    )


def test_an_earlier_refund_is_recovered_from_later_earnings():
    # The creator owed 12.34 after a refund of money already paid out; it comes off their payable.
    draft = refund_recovered(
        key="settlement:2026-11:recovered:42:USD:17", effective_at=T, currency="USD", amount=1_234, creator_id=42
    )
    assert draft.kind == "refund.recovered"
    assert lines(draft) == sorted([("creator:42:payable:USD", 1_234), ("creator:42:recoverable:USD", -1_234)])


@pytest.mark.parametrize(
    "build",
    [
        lambda: derivative_uses(
            key="k",
            effective_at=T,
            currency="USD",
            prices={100: 1},
            commission_bps=0,
            brand_id=1,
            owners=[Owner(1, 1)],
            from_advance=101,
        ),
        lambda: licence_sale(
            key="k",
            effective_at=T,
            currency="USD",
            gross=100,
            stripe_fee=0,
            commission_bps=0,
            owners=[Owner(1, 1)],
            advance=50,
        ),  # an advance names its brand
        lambda: refund_recovered(key="k", effective_at=T, currency="USD", amount=0, creator_id=1),
        lambda: advance_earned(
            key="k", effective_at=T, currency="USD", amount=-5, commission_bps=0, brand_id=1, owners=[Owner(1, 1)]
        ),
    ],
)
def test_advances_and_recoveries_refuse_impossible_amounts(build):
    with pytest.raises(MoneyError):
        build()
