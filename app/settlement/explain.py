"""What a period's settlement run did for one creator and currency, in the creator's words.

Statements say it beside the figures: an amount under the minimum payout is carried
forward "and said so on the statement", a held creator is told why, a paid one sees the
transfer.  Read-only; no Stripe calls.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ledger.money import format_minor

from .models import UNFINISHED_ITEM_STATUSES, SettlementItem, SettlementRun


def settlement_item(session: Session, period: str, creator_id: int, currency: str) -> SettlementItem | None:
    query = (
        select(SettlementItem)
        .join(SettlementRun, col(SettlementRun.id) == SettlementItem.run_id)
        .where(
            SettlementRun.period == period, SettlementItem.creator_id == creator_id, SettlementItem.currency == currency
        )
    )
    return session.exec(query).first()


def still_paying(item: SettlementItem | None) -> int:
    """What the period's run has yet to pay (it is not "carried forward": this run pays it)."""
    return item.amount if item is not None and item.status in UNFINISHED_ITEM_STATUSES else 0


def explain(item: SettlementItem | None, period: str) -> str | None:
    if item is None:
        return None
    cur = item.currency
    amount = f"{format_minor(item.amount, cur)} {cur}"
    run = f"The {period} settlement run"
    said = _status(item, run, amount)
    if item.recovered:
        recovered = f"{format_minor(item.recovered, cur)} {cur}"
        said += f" It recovered {recovered} you owed after an earlier refund from this period's earnings first."
    return said


def _status(item: SettlementItem, run: str, amount: str) -> str:
    cur = item.currency
    match item.status:
        case "below_minimum":
            if item.amount == 0:
                return f"{run} had nothing to pay: {item.hold_reason or 'nothing was payable.'}"
            return f"{run} found {amount} payable, under the minimum payout: it is carried forward to the next run."
        case "held":
            return f"{run} held {amount}: {item.hold_reason or 'payouts are on hold.'}"
        case "paid":
            return f"{run} paid {amount} to your Stripe account (transfer {item.transfer_id})."
        case "planned" | "posted":
            return f"{run} is paying {amount}."
        case "awaiting_funds":
            return f"{run} is paying {amount}, which is waiting for funds. {item.last_error or ''}".strip()
        case "failed":
            return (
                f"{run} could not pay {amount}; it was returned to your balance and is paid when the run is "
                "retried, or by the next run."
            )
        case "reversed" | "partially_reversed":
            back = f"{format_minor(item.reversed_amount, cur)} {cur}"
            return f"{run} paid {amount}; Stripe reversed {back} of it, which was returned to your balance."
    return f"{run}: {item.status}."
