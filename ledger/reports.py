"""Read models over the journal: balances at a point in time and the trial balance.

Times are half-open: ``before`` excludes entries effective at that instant, so the
balance at the end of October is ``before=2026-11-01T00:00Z`` and periods tile
without overlap.  ``before=None`` means "now" and reads the maintained balance rows
(O(accounts)); otherwise postings are summed, which is what an auditor would do.

pandas is used only to hand tabular results to callers that want a DataFrame; the
amounts stay nullable ``Int64`` (never float).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select

from .errors import UnknownAccount
from .models import (
    NORMAL_SIGN,
    account_table,
    balance_table,
    entry_table,
    posting_table,
)
from .money import Money

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    type: str
    currency: str
    amount: int  # signed: debits positive

    @property
    def debit(self) -> int:
        return max(self.amount, 0)

    @property
    def credit(self) -> int:
        return max(-self.amount, 0)

    @property
    def normal(self) -> int:
        """The balance as the account's owner reads it (a liability of 5 is +5)."""
        return self.amount * NORMAL_SIGN[self.type]


@dataclass(frozen=True)
class TrialBalance:
    rows: tuple[AccountBalance, ...]
    before: datetime | None

    def totals(self) -> dict[str, tuple[int, int]]:
        """currency → (total debits, total credits); equal when the book balances."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in self.rows:
            out[row.currency][0] += row.debit
            out[row.currency][1] += row.credit
        return {cur: (d, c) for cur, (d, c) in sorted(out.items())}

    @property
    def balanced(self) -> bool:
        return all(d == c for d, c in self.totals().values())

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(
            [(r.code, r.name, r.type, r.currency, r.debit, r.credit) for r in self.rows],
            columns=["account", "name", "type", "currency", "debit", "credit"],
        )
        return frame.astype({"debit": "Int64", "credit": "Int64"})


def balances(
    conn: Connection, *, before: datetime | None = None, codes: list[str] | None = None
) -> list[AccountBalance]:
    """Every account's balance (or those in ``codes``) at ``before`` (None: now)."""
    if before is None:
        amount = func.coalesce(func.sum(balance_table.c.amount), 0)
        query = select(
            account_table.c.code, account_table.c.name, account_table.c.type, account_table.c.currency, amount
        ).select_from(account_table.outerjoin(balance_table, balance_table.c.account_id == account_table.c.id))
    else:
        moved = (
            select(posting_table.c.account_id, func.sum(posting_table.c.amount).label("amount"))
            .join(entry_table, entry_table.c.seq == posting_table.c.entry_seq)
            .where(entry_table.c.effective_at < before)
            .group_by(posting_table.c.account_id)
            .subquery()
        )
        amount = func.coalesce(func.max(moved.c.amount), 0)
        query = select(
            account_table.c.code, account_table.c.name, account_table.c.type, account_table.c.currency, amount
        ).select_from(account_table.outerjoin(moved, moved.c.account_id == account_table.c.id))
    if codes is not None:
        query = query.where(account_table.c.code.in_(codes))
    query = query.group_by(account_table.c.code, account_table.c.name, account_table.c.type, account_table.c.currency)
    return [
        AccountBalance(code, name, type_, cur, int(amt))
        for code, name, type_, cur, amt in conn.execute(query.order_by(account_table.c.code))
    ]


def balance_at(conn: Connection, code: str, *, before: datetime | None = None) -> Money:
    found = balances(conn, before=before, codes=[code])
    if not found:
        raise UnknownAccount(code)
    return Money(found[0].amount, found[0].currency)


def trial_balance(conn: Connection, *, before: datetime | None = None) -> TrialBalance:
    return TrialBalance(tuple(b for b in balances(conn, before=before)), before)
