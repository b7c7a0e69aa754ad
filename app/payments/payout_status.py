"""Whether a creator can be paid now, and if not, why — in words a creator understands.

Settlement asks this for every creator it would pay (held creators are listed, never
skipped silently); the creator dashboard shows the same reason.  Pure over the
``connect_account`` row so both read the same truth.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from .models import ConnectAccount


@dataclass(frozen=True)
class PayoutStatus:
    stripe_account_id: str | None
    payouts_enabled: bool
    hold_reason: str | None  # None when payouts can be made

    @property
    def can_pay(self) -> bool:
        return self.hold_reason is None


def describe(account: ConnectAccount | None) -> PayoutStatus:
    if account is None:
        return PayoutStatus(None, False, "No Stripe account is connected yet: connect one from your dashboard.")
    if account.payouts_enabled:
        return PayoutStatus(account.stripe_account_id, True, None)
    if account.requirements_due:
        due = ", ".join(sorted(account.requirements_due))
        return PayoutStatus(
            account.stripe_account_id, False, f"Stripe needs more information before it can pay you: {due}."
        )
    if not account.details_submitted:
        return PayoutStatus(
            account.stripe_account_id, False, "Stripe onboarding is not finished: continue it from your dashboard."
        )
    return PayoutStatus(account.stripe_account_id, False, "Stripe has not enabled payouts on your account yet.")


def payout_status(session: Session, creator_id: int) -> PayoutStatus:
    account = session.exec(select(ConnectAccount).where(ConnectAccount.creator_id == creator_id)).first()
    return describe(account)


def payout_statuses(session: Session, creator_ids: list[int]) -> dict[int, PayoutStatus]:
    rows = (
        session.exec(select(ConnectAccount).where(col(ConnectAccount.creator_id).in_(creator_ids))).all()
        if creator_ids
        else []
    )
    by_creator = {row.creator_id: row for row in rows}
    return {creator_id: describe(by_creator.get(creator_id)) for creator_id in creator_ids}
