"""What a period's settlement run did for one creator and currency, in the creator's words.

Statements say it beside the figures: an amount under the minimum payout is carried
forward "and said so on the statement", a held creator is told why, a paid one sees the
transfer.  Read-only; no Stripe calls.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ledger.money import format_minor

from .models import SettlementItem, SettlementRun


def settlement_item(session: Session, period: str, creator_id: int, currency: str) -> SettlementItem | None:
    query = (
        select(SettlementItem)
        .join(SettlementRun, col(SettlementRun.id) == SettlementItem.run_id)
        .where(
            SettlementRun.period == period, SettlementItem.creator_id == creator_id, SettlementItem.currency == currency
        )
    )
    return session.exec(query).first()


def explain(item: SettlementItem | None, period: str) -> str | None:
    if item is None:
        return None
    cur = item.currency
    amount = f"{format_minor(item.amount, cur)} {cur}"
    run = f"The {period} settlement run"
    match item.status:
        case "below_minimum":
            return f"{run} found {amount} payable, under the minimum payout: it is carried forward to the next run."
        case "held":
            return f"{run} held {amount}: {item.hold_reason or 'payouts are on hold.'}"
        case "paid":
            return f"{run} paid {amount} to your Stripe account (transfer {item.transfer_id})."
        case "planned" | "posted":
            return f"{run} is paying {amount}."
        case "failed":
            return f"{run} could not pay {amount}; it was returned to your balance and will be retried."
        case "reversed" | "partially_reversed":
            back = f"{format_minor(item.reversed_amount, cur)} {cur}"
            return f"{run} paid {amount}; Stripe reversed {back} of it, which was returned to your balance."
    return f"{run}: {item.status}."
