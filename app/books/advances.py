"""Advances (minimum guarantees): what is left of a licence's advance, and its end.

A brand may pay an advance with a licence's fee (``recipes.licence_sale(advance=…)``):
it sits in ``brand:Y:advance:CUR``, a liability, owed to nobody yet.  Metered uses of
the licence recoup it before anything is billed to the brand's receivable
(``recipes.derivative_uses(from_advance=…)``), and whatever is left when the licence
ends is earned by its owners (``recipes.advance_earned``, commission as on a sale).

One brand's advance account holds the advances of all its licences in a currency;
each entry about an advance names its licence (the ledger's ``subject``), so what is
left of one licence's advance is the sum of its entries' postings to the account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from ledger import Ledger, PostedEntry
from ledger.models import account_table, entry_table, posting_table

from . import chart, recipes


def advance_earned_key(licence_id: int) -> str:
    return f"advance-earned:{licence_id}"


def unrecouped(conn: Connection, brand_id: int, currency: str, licence_ids: Iterable[int]) -> dict[int, int]:
    """What is left of each licence's advance (0 for a licence without one)."""
    wanted = sorted(set(licence_ids))
    left = dict.fromkeys(wanted, 0)
    if not wanted:
        return left
    query = (
        select(entry_table.c.subject, func.sum(posting_table.c.amount))
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).join(
                account_table, account_table.c.id == posting_table.c.account_id
            )
        )
        .where(account_table.c.code == chart.brand_advance(brand_id, currency), entry_table.c.subject.in_(wanted))
        .group_by(entry_table.c.subject)
    )
    for licence_id, amount in conn.execute(query):
        left[int(licence_id)] = -int(amount)  # a liability: credits are negative
    return left


def earn_unrecouped_advance(
    session: Session,
    ledger: Ledger,
    *,
    licence_id: int,
    brand_id: int,
    currency: str,
    commission_bps: int,
    owners: Sequence[recipes.Owner],
    now: datetime,
) -> PostedEntry | None:
    """At the licence's end: its owners earn what uses left of its advance (once; None if nothing is left)."""
    left = unrecouped(session.connection(), brand_id, currency, [licence_id])[licence_id]
    if left <= 0 or not owners:
        return None
    draft = recipes.advance_earned(
        key=advance_earned_key(licence_id),
        effective_at=now,
        currency=currency,
        amount=left,
        commission_bps=commission_bps,
        brand_id=brand_id,
        owners=owners,
        memo=f"licence #{licence_id} ended: unrecouped advance earned",
        meta={chart.SUBJECT_KEY: licence_id},
    )
    chart.open_accounts_for(ledger, session, [draft])
    return ledger.post(session, draft, now=now)
