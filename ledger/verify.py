"""Recompute the book from its postings and compare with everything stored.

One pass over entries in ``seq`` order (joined with their postings and seals):

* each entry's canonical content is rebuilt from its rows and hashed — a changed
  amount, account, memo or time no longer matches the stored ``content_hash``;
* invariant 1 again: ≥ 2 postings, none zero, per-currency sum 0, posting currency
  equals account currency;
* every seal must follow its predecessor (``prev_hash``) and equal the link
  recomputed from the *recomputed* content hash, so editing a posting together with
  the stored content hash is caught by the chain;
* no entry may be unsealed while a later one is sealed; the unsealed tail after the
  last seal is reported (the sealer has not reached it yet), not treated as an error;
* the indexed ``subject`` must be what the hashed metadata says (given the key the
  application names, ``subject_key``).

Then every stored balance (the sum of its shard rows) is compared with the sum of
its postings.  The report names the first bad entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Row, func, select

from .book import subject_of
from .canonical import GENESIS_HASH, chain_hash, content_hash
from .models import (
    account_table,
    balance_table,
    entry_table,
    posting_table,
    seal_table,
)


@dataclass(frozen=True)
class Problem:
    message: str
    seq: int | None = None
    account: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    postings: int
    sealed_through: int
    unsealed: int
    accounts: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None


def verify(conn: Connection, *, subject_key: str | None = None) -> VerifyReport:
    problems: list[Problem] = []
    sums: dict[int, int] = defaultdict(int)
    entries = postings = unsealed = 0
    head_hash, sealed_through, gap_seq = GENESIS_HASH, 0, None

    rows = conn.execute(
        select(
            entry_table.c.seq,
            entry_table.c.idempotency_key,
            entry_table.c.kind,
            entry_table.c.effective_at,
            entry_table.c.posted_at,
            entry_table.c.memo,
            entry_table.c.metadata,
            entry_table.c.reverses_seq,
            entry_table.c.content_hash,
            entry_table.c.subject,
            seal_table.c.prev_hash,
            seal_table.c.hash,
            posting_table.c.account_id,
            account_table.c.code,
            account_table.c.currency.label("account_currency"),
            posting_table.c.amount,
            posting_table.c.currency,
        )
        .select_from(entry_table)
        .outerjoin(seal_table, seal_table.c.seq == entry_table.c.seq)
        .outerjoin(posting_table, posting_table.c.entry_seq == entry_table.c.seq)
        .outerjoin(account_table, account_table.c.id == posting_table.c.account_id)
        .order_by(entry_table.c.seq, posting_table.c.id)
        .execution_options(stream_results=True, yield_per=5000)
    )
    for seq, group in groupby(rows, key=lambda r: r.seq):
        entry_rows = list(group)
        head = entry_rows[0]
        lines = [r for r in entry_rows if r.account_id is not None]
        entries += 1
        postings += len(lines)
        problems.extend(_check_entry(seq, lines))
        for r in lines:
            sums[r.account_id] += r.amount
        recomputed = content_hash(
            idempotency_key=head.idempotency_key,
            kind=head.kind,
            effective_at=head.effective_at,
            memo=head.memo,
            meta=head.metadata or {},
            reverses_seq=head.reverses_seq,
            postings=[(r.code, r.amount, r.currency) for r in lines],
        )
        if recomputed != head.content_hash:
            problems.append(Problem("content does not match its stored hash (entry or postings altered)", seq))
        if subject_key is not None and head.subject != subject_of(head.metadata or {}, subject_key):
            problems.append(Problem(f"subject {head.subject} is not the metadata's {subject_key!r}", seq))
        if head.hash is None:
            unsealed += 1
            gap_seq = gap_seq or seq
            continue
        if gap_seq is not None:
            problems.append(Problem(f"entry {gap_seq} is unsealed but later entries are sealed", gap_seq))
            gap_seq = None
        if head.prev_hash != head_hash:
            problems.append(Problem("seal does not follow the previous seal (chain broken)", seq))
        if chain_hash(head.prev_hash, seq, head.posted_at, recomputed) != head.hash:
            problems.append(Problem("seal hash does not match the entry (chain broken)", seq))
        head_hash, sealed_through, unsealed = head.hash, seq, 0

    stored = conn.execute(
        select(account_table.c.id, account_table.c.code, func.sum(balance_table.c.amount))
        .join(balance_table, balance_table.c.account_id == account_table.c.id)
        .group_by(account_table.c.id, account_table.c.code)
        .order_by(account_table.c.id)
    ).all()
    for account_id, code, amount in stored:
        if int(amount) != sums.get(account_id, 0):
            problems.append(
                Problem(
                    f"stored balance {int(amount)} differs from the sum of postings {sums.get(account_id, 0)}",
                    account=code,
                )
            )
    problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return VerifyReport(entries, postings, sealed_through, unsealed, len(stored), tuple(problems))


def _check_entry(seq: int, lines: Sequence[Row[*tuple[Any, ...]]]) -> list[Problem]:
    found = []
    if len(lines) < 2:
        found.append(Problem(f"has {len(lines)} posting(s); at least two are required", seq))
    totals: dict[str, int] = defaultdict(int)
    for r in lines:
        totals[r.currency] += r.amount
        if r.amount == 0:
            found.append(Problem(f"zero posting to {r.code}", seq))
        if r.currency != r.account_currency:
            found.append(Problem(f"{r.currency} posting to {r.account_currency} account {r.code}", seq))
    for currency, total in sorted(totals.items()):
        if total:
            found.append(Problem(f"postings sum to {total} {currency}, not zero", seq))
    return found
