"""A realistic book for the reporting tests: sales, uses, a usage invoice, refunds and a
dispute, reserve moves, payouts and reversed payouts, in USD, JPY (0 decimals) and KWD
(3 decimals), spread over September 2026 – January 2027.  Posted through the real
``Ledger`` and recipes, so the reports read exactly what the product writes."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

from sqlalchemy.orm import Session

from app.books import chart, kinds, recipes
from app.books.recipes import Owner
from ledger import Ledger

AVA, BEN = 7, 8  # creators (BEN co-owns the JPY cameo with AVA)
BRAND = 3


def at(month: int, day: int, hour: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def post(ledger: Ledger, session: Session, draft, now: datetime):
    chart.open_accounts_for(ledger, session, [draft])
    return ledger.post(session, draft, now=now)


def payout(key: str, when: datetime, currency: str, amount: int, creator: int, item: int):
    return recipes.payout_transfer(
        key=key,
        effective_at=when,
        currency=currency,
        amount=amount,
        creator_id=creator,
        meta={
            "period": f"{when:%Y-%m}",
            "item_id": item,
            "creator_id": creator,
            "transfer_group": f"settlement-{when:%Y-%m}",
        },
    )


def tell_story(ledger: Ledger, session: Session) -> dict[str, int]:
    """Post the story; returns the seqs a test may want to point at."""
    seqs: dict[str, int] = {}
    usd_split = recipes.split(10_000, 2000, [Owner(AVA, 1)])
    seqs["sale"] = post(
        ledger,
        session,
        recipes.licence_sale(
            key="sale:1",
            effective_at=at(9, 3),
            currency="USD",
            gross=10_000,
            stripe_fee=320,
            commission_bps=2000,
            owners=[Owner(AVA, 1)],
            memo='licence #1 fee "upfront"',
            meta={"licence_id": 1},
        ),
        at(9, 3),
    ).seq
    post(
        ledger,
        session,
        recipes.derivative_use(
            key="use:1",
            effective_at=at(9, 10),
            currency="JPY",
            price=5_001,
            commission_bps=1500,
            brand_id=BRAND,
            owners=[Owner(AVA, 1), Owner(BEN, 1)],
        ),
        at(9, 10),
    )
    post(
        ledger,
        session,
        recipes.derivative_use(
            key="use:2",
            effective_at=at(9, 30, 23),
            currency="KWD",
            price=12_345,
            commission_bps=1000,
            brand_id=BRAND,
            owners=[Owner(BEN, 1)],
        ),
        at(9, 30, 23),
    )
    post(
        ledger,
        session,
        recipes.usage_invoice_paid(
            key="invoice:1", effective_at=at(10, 2), currency="JPY", amount=5_001, stripe_fee=180, brand_id=BRAND
        ),
        at(10, 2),
    )
    post(
        ledger,
        session,
        recipes.refund(
            key="refund:1",
            effective_at=at(10, 5),
            currency="USD",
            amount=2_500,
            original=usd_split,
            payable_available={AVA: 8_000},
        ),
        at(10, 5),
    )
    post(
        ledger,
        session,
        recipes.holdback_to_reserve(
            key="settlement:2026-10:reserve:7:USD",
            effective_at=at(10, 31, 22),
            currency="USD",
            amount=1_000,
            creator_id=AVA,
            meta={"period": "2026-10", "creator_id": AVA},
        ),
        at(10, 31, 22),
    )
    seqs["payout_usd"] = post(
        ledger, session, payout("payout:item:1", at(11, 1, 1), "USD", 4_000, AVA, 1), at(11, 1, 1)
    ).seq
    seqs["payout_jpy"] = post(
        ledger, session, payout("payout:item:2", at(11, 1, 1), "JPY", 2_125, BEN, 2), at(11, 1, 1)
    ).seq
    # the JPY transfer failed: reversed, then paid again on a second attempt
    ledger.reverse(
        session, seqs["payout_jpy"], idempotency_key="payout:item:2:reversal", now=at(11, 3), effective_at=at(11, 3)
    )
    post(ledger, session, payout("payout:item:2:1", at(11, 4), "JPY", 2_125, BEN, 2), at(11, 4))
    post(ledger, session, payout("payout:item:3", at(11, 4), "KWD", 11_110, BEN, 3), at(11, 4))
    post(
        ledger,
        session,
        recipes.refund(
            key="dispute:1",
            effective_at=at(11, 20),
            currency="USD",
            amount=1_000,
            original=usd_split,
            payable_available={AVA: 1_000},
            dispute_fee=1_500,
            kind=kinds.LICENCE_DISPUTE,
        ),
        at(11, 20),
    )
    post(
        ledger,
        session,
        recipes.reserve_release(
            key="settlement:2026-12:reserve:7:USD",
            effective_at=at(12, 31),
            currency="USD",
            amount=1_000,
            creator_id=AVA,
        ),
        at(12, 31),
    )
    seqs["payout_dec"] = post(
        ledger, session, payout("payout:item:4", at(12, 31, 20), "USD", 500, AVA, 4), at(12, 31, 20)
    ).seq
    # a December transfer reversed in January: cash basis puts the reversal in 2027
    ledger.reverse(
        session,
        seqs["payout_dec"],
        idempotency_key="payout:item:4:reversal",
        now=at(1, 2, year=2027),
        effective_at=at(1, 2, year=2027),
    )
    return seqs
