"""The words a statement uses for each settlement item status."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest

from app.settlement.explain import explain
from app.settlement.models import SettlementItem

NOW = datetime(2026, 11, 1, 6, tzinfo=UTC)


def item(status: str, amount: int = 850, currency: str = "USD", **fields) -> SettlementItem:
    return SettlementItem(
        run_id=1,
        creator_id=7,
        currency=currency,
        payable=amount,
        reserve=0,
        amount=amount,
        status=status,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


@pytest.mark.parametrize(
    "row, words",
    [
        (
            item("below_minimum"),
            "The 2026-10 settlement run found 8.50 USD payable, under the minimum payout: "
            "it is carried forward to the next run.",
        ),
        (
            item("held", hold_reason="Stripe needs more information before it can pay you: external_account."),
            "The 2026-10 settlement run held 8.50 USD: Stripe needs more information before it can pay you: "
            "external_account.",
        ),
        (
            item("paid", 1_500, "JPY", transfer_id="tr_1"),
            "The 2026-10 settlement run paid 1500 JPY to your Stripe account (transfer tr_1).",
        ),
        (
            item("failed"),
            "The 2026-10 settlement run could not pay 8.50 USD; it was returned to your balance and is paid "
            "when the run is retried, or by the next run.",
        ),
        (
            item("partially_reversed", reversed_amount=300),
            "The 2026-10 settlement run paid 8.50 USD; Stripe reversed "
            "3.00 USD of it, which was returned to your balance.",
        ),
        (
            item("awaiting_funds", last_error="Waiting for funds: 0.00 USD available. It is paid automatically."),
            "The 2026-10 settlement run is paying 8.50 USD, which is waiting for funds. "
            "Waiting for funds: 0.00 USD available. It is paid automatically.",
        ),
        (
            item("paid", transfer_id="tr_2", recovered=1_234),
            "The 2026-10 settlement run paid 8.50 USD to your Stripe account (transfer tr_2). It recovered "
            "12.34 USD you owed after an earlier refund from this period's earnings first.",
        ),
        (
            item("below_minimum", 0, recovered=850, hold_reason="Everything owed went to recover what you owed."),
            "The 2026-10 settlement run had nothing to pay: Everything owed went to recover what you owed. "
            "It recovered 8.50 USD you owed after an earlier refund from this period's earnings first.",
        ),
        (None, None),
    ],
)
def test_each_status_is_said_plainly(row, words):
    assert explain(row, "2026-10") == words
