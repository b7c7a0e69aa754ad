"""Recovering what a creator owes after a refund of money already paid out.

A refund (or dispute) whose creator's share the payable can no longer cover debits
``creator:X:recoverable``: money the creator owes the platform.  A settlement run nets
it against what the creator earned since (``app.settlement.planning`` decides how
much: never more than this run would pay, never another creator's earnings, per
currency), and this module says which refunds that recovers: the **oldest first**.
Each refund recovered (in part or whole) is one ``refund.recovered`` entry naming the
refund entry it recovers (``meta.recovers_seq``) and the refund's licence, so the
creator's statement reads "recovered from the refund of licence #5 (2026-10-12)".

What is outstanding of each refund is its debit to the recoverable minus the
recoveries that name it: read from the journal, never kept anywhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ledger import EntryDraft
from ledger.canonical import iso_utc
from ledger.models import account_table, entry_table, posting_table

from . import chart, kinds, recipes


@dataclass(frozen=True)
class Outstanding:
    """What is still owed of one refund (the entry that debited the recoverable)."""

    seq: int
    effective_at: datetime
    licence_id: int | None
    amount: int


def outstanding(conn: Connection, creator_id: int, currency: str) -> list[Outstanding]:
    """Each refund the creator still owes part of, oldest first."""
    code = chart.creator_recoverable(creator_id, currency)
    rows = conn.execute(
        select(
            entry_table.c.seq,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.metadata,
            posting_table.c.amount,
        )
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).join(
                account_table, account_table.c.id == posting_table.c.account_id
            )
        )
        .where(account_table.c.code == code)
        .order_by(entry_table.c.effective_at, entry_table.c.seq)
    ).all()
    owed: dict[int, int] = defaultdict(int)
    facts: dict[int, tuple[datetime, int | None]] = {}
    unnamed = 0  # credits that name no refund (a reversal of a refund, say) pay off the oldest
    for seq, kind, effective_at, meta, amount in rows:
        meta = dict(meta or {})
        if amount > 0:
            owed[seq] += int(amount)
            facts[seq] = (effective_at, meta.get(chart.SUBJECT_KEY))
        elif kind == kinds.REFUND_RECOVERED.name and meta.get("recovers_seq") in owed:
            owed[int(meta["recovers_seq"])] += int(amount)
        else:
            unnamed -= int(amount)
    out = []
    for seq in sorted(owed, key=lambda s: (facts[s][0], s)):
        left = owed[seq]
        taken = min(left, unnamed)
        left, unnamed = left - taken, unnamed - taken
        if left > 0:
            effective_at, licence_id = facts[seq]
            out.append(Outstanding(seq, effective_at, licence_id if isinstance(licence_id, int) else None, left))
    return out


def recovery_key(period: str, creator_id: int, currency: str, refund_seq: int) -> str:
    return f"settlement:{period}:recovered:{creator_id}:{currency}:{refund_seq}"


def recovery_drafts(
    conn: Connection,
    *,
    period: str,
    creator_id: int,
    currency: str,
    amount: int,
    effective_at: datetime,
    meta: dict[str, Any] | None = None,
) -> list[EntryDraft]:
    """``amount`` recovered from the creator's earnings, oldest refund first: one entry per refund."""
    drafts = []
    for refund in outstanding(conn, creator_id, currency):
        if amount <= 0:
            break
        part = min(amount, refund.amount)
        amount -= part
        about = f"refund of licence #{refund.licence_id}" if refund.licence_id else "an earlier refund"
        drafts.append(
            recipes.refund_recovered(
                key=recovery_key(period, creator_id, currency, refund.seq),
                effective_at=effective_at,
                currency=currency,
                amount=part,
                creator_id=creator_id,
                memo=f"settlement {period}: recovered from the {about} ({refund.effective_at:%Y-%m-%d})",
                meta={
                    **(meta or {}),
                    "creator_id": creator_id,
                    "recovers_seq": refund.seq,
                    "refund_effective_at": iso_utc(refund.effective_at),
                    **({chart.SUBJECT_KEY: refund.licence_id} if refund.licence_id else {}),
                },
            )
        )
    return drafts
