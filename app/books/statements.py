"""A creator's statement for a period, computed from the journal alone.

For one creator, one currency and a half-open period ``[start, end)`` a statement
gives, in integer minor units and as the creator reads them (money owed to the
creator is positive):

* the **opening** balances of the creator's three accounts — ``payable`` (earned,
  not yet paid), ``reserve`` (held back) and ``recoverable`` (owed by the creator
  after a refund of money already paid out) — i.e. the sum of the entries that belong
  to earlier periods;
* one **line** per journal entry that belongs to the period and touches any of them,
  classified into a section: ``sales`` (licence fees), ``uses`` (derivative-use
  royalties), ``reserve`` (holds and releases), ``refunds`` (refunds, disputes,
  reversals of earnings and recoveries of them), ``payouts`` (transfers and their
  reversals) and ``other``.  An entry belongs to the month it is effective in, except
  what a settlement run posts for the period it settles (``app.books.periods``): the
  payout the 2026-11 run makes on 1 December is on November's statement;
* late money (a payment or refund whose own date fell in a month already closed, so it
  was booked at the first open moment) is on the statement of the month it was booked
  in, marked as a **prior-period adjustment** (``late_from``), outside the per-licence
  summaries;
* sales summed per licence and uses per licence and brand (count, gross, commission,
  net).  Gross and commission are the whole entry's; **net is the creator's own
  share** — on a co-owned cameo the other owners' shares are in gross but not in net
  (``co_owned`` says so);
* the **closing** balances.

The invariant ``closing == opening + Σ lines == ledger balance − what belongs to later
periods`` is checked every time (``StatementMismatch`` if it ever fails, never an
``assert`` that ``-O`` could strip).  The opening sums, the period's postings, the later
postings and the maintained balance rows are read in ONE statement, so they come from
one snapshot even under READ COMMITTED while others post; the closing balance is then
compared with the maintained balance row minus the postings that belong after the
period — ``cameo ledger balance --as-of`` at the period's end, minus this period's
settlement run when it has paid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, String, cast, func, literal, null, select, union_all

from ledger.errors import LedgerError
from ledger.models import (
    NORMAL_SIGN,
    account_table,
    balance_table,
    entry_table,
    posting_table,
)
from ledger.money import check_currency
from ledger.types import as_utc

from . import chart, kinds
from .kinds import SECTION_TITLES, SECTIONS  # noqa: F401 — statement pages import them from here
from .periods import SETTLES, belongs_after, belongs_before, belongs_to_month, belongs_within

LATE_FROM = "late_from"  # ledger.periods: the closed period a late entry's own date fell in
ORIGINAL_EFFECTIVE_AT = "original_effective_at"

PURPOSES = ("payable", "reserve", "recoverable")


class StatementMismatch(LedgerError):
    """The statement's closing balance disagrees with the ledger: a bug, never a user error."""


@dataclass(frozen=True)
class Balances:
    """The creator's three accounts as the creator reads them: payable and reserve are
    money owed to the creator, recoverable is money the creator owes."""

    payable: int = 0
    reserve: int = 0
    recoverable: int = 0

    def __add__(self, other: Balances) -> Balances:
        return Balances(
            self.payable + other.payable, self.reserve + other.reserve, self.recoverable + other.recoverable
        )


@dataclass(frozen=True)
class StatementLine:
    seq: int
    effective_at: datetime
    kind: str
    section: str
    idempotency_key: str
    memo: str
    licence_id: int | None
    brand_id: int | None
    gross: int | None  # the whole entry's price (sales, uses, refunds of them); None elsewhere
    commission: int | None  # the platform's part of ``gross``
    change: Balances  # what the entry did to this creator's accounts; change.payable is "net"
    co_owned: bool  # other creators share this entry (gross/commission are not all this creator's)
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def net(self) -> int:
        return self.change.payable

    @property
    def settles(self) -> str | None:
        """The period a settlement run posted this entry for (None: an ordinary entry)."""
        value = self.meta.get(SETTLES)
        return value if isinstance(value, str) else None

    @property
    def late_from(self) -> str | None:
        """The closed period this entry's own date fell in (a prior-period adjustment), else None."""
        value = self.meta.get(LATE_FROM)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Summary:
    """Sales of one licence, or uses of one licence by one brand, summed."""

    licence_id: int | None
    count: int  # sales, or metered uses (an entry of several uses says how many in ``meta["uses"]``)
    gross: int
    commission: int
    net: int  # this creator's share
    co_owned: bool
    brand_id: int | None = None  # uses only


@dataclass(frozen=True)
class Statement:
    creator_id: int
    currency: str
    period_start: datetime
    period_end: datetime
    opening: Balances
    closing: Balances
    lines: tuple[StatementLine, ...]
    sales: tuple[Summary, ...]
    uses: tuple[Summary, ...]

    def section(self, name: str) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.section == name)

    @property
    def adjustments(self) -> tuple[StatementLine, ...]:
        """Prior-period adjustments: late money booked in this period, dated in a closed one."""
        return tuple(line for line in self.lines if line.late_from)

    def section_total(self, name: str) -> Balances:
        return sum((line.change for line in self.section(name)), Balances())

    @property
    def movement(self) -> Balances:
        return sum((line.change for line in self.lines), Balances())

    @property
    def carried_forward(self) -> int:
        """What is still payable at the end of the period (paid in a later run)."""
        return max(self.closing.payable, 0)


def creator_codes(creator_id: int, currency: str) -> dict[str, str]:
    return {
        "payable": chart.creator_payable(creator_id, currency),
        "reserve": chart.creator_reserve(creator_id, currency),
        "recoverable": chart.creator_recoverable(creator_id, currency),
    }


def creator_statement(
    conn: Connection, creator_id: int, currency: str, period_start: datetime, period_end: datetime
) -> Statement:
    """The statement of ``creator_id`` in ``currency`` for ``[period_start, period_end)``."""
    currency = check_currency(currency)
    start, end = as_utc(period_start), as_utc(period_end)
    if not start < end:
        raise LedgerError("a statement period must end after it starts")
    codes = creator_codes(creator_id, currency)
    accounts = {
        code: (account_id, NORMAL_SIGN[type_])
        for account_id, code, type_ in conn.execute(
            select(account_table.c.id, account_table.c.code, account_table.c.type).where(
                account_table.c.code.in_(codes.values())
            )
        )
    }
    purpose_of = {accounts[code][0]: purpose for purpose, code in codes.items() if code in accounts}
    if not purpose_of:  # the creator never had money in this currency
        return Statement(creator_id, currency, start, end, Balances(), Balances(), (), (), ())
    sign_of = dict(accounts.values())

    opening: defaultdict[int, int] = defaultdict(int)
    later: defaultdict[int, int] = defaultdict(int)
    cached: defaultdict[int, int] = defaultdict(int)
    period_moves: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))  # seq → account → amount
    for source, account_id, seq, amount in conn.execute(_snapshot_query(list(purpose_of), start, end)):
        amount = int(amount or 0)
        if source == "line":
            period_moves[int(seq)][account_id] += amount
        else:
            {"opening": opening, "later": later, "cached": cached}[source][account_id] += amount

    def readable(amounts: Mapping[int, int]) -> Balances:
        values = {purpose_of[a]: amounts.get(a, 0) * sign_of[a] for a in purpose_of}
        return Balances(**values)

    lines = tuple(_lines(conn, creator_id, currency, period_moves, readable))
    opening_balances = readable(opening)
    closing = opening_balances + sum((line.change for line in lines), Balances())
    in_ledger = readable({a: cached[a] - later[a] for a in purpose_of})
    if closing != in_ledger:
        raise StatementMismatch(
            f"statement of creator {creator_id} {currency} [{start:%Y-%m-%d}, {end:%Y-%m-%d}): "
            f"closing {closing} but the ledger holds {in_ledger}"
        )
    return Statement(
        creator_id,
        currency,
        start,
        end,
        opening_balances,
        closing,
        lines,
        _summaries(lines, "sales", by_brand=False),
        _summaries(lines, "uses", by_brand=True),
    )


def _snapshot_query(account_ids: list[int], start: datetime, end: datetime):
    """One statement: opening sums, the period's postings, later sums, maintained balances
    (by the period each entry belongs to, ``app.books.periods``)."""
    mine = posting_table.c.account_id.in_(account_ids)
    joined = posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq)
    no_seq = cast(null(), BigInteger)

    def summed(source: str, condition):
        return (
            select(
                cast(literal(source), String).label("source"),
                posting_table.c.account_id,
                no_seq.label("seq"),
                func.sum(posting_table.c.amount).label("amount"),
            )
            .select_from(joined)
            .where(mine, condition)
            .group_by(posting_table.c.account_id)
        )

    lines = (
        select(
            cast(literal("line"), String), posting_table.c.account_id, posting_table.c.entry_seq, posting_table.c.amount
        )
        .select_from(joined)
        .where(mine, belongs_within(entry_table, start, end))
    )
    maintained = (
        select(cast(literal("cached"), String), balance_table.c.account_id, no_seq, func.sum(balance_table.c.amount))
        .where(balance_table.c.account_id.in_(account_ids))
        .group_by(balance_table.c.account_id)
    )
    return union_all(
        summed("opening", belongs_before(entry_table, start)),
        lines,
        summed("later", belongs_after(entry_table, end)),
        maintained,
    )


def _lines(
    conn: Connection, creator_id: int, currency: str, moves: Mapping[int, Mapping[int, int]], readable
) -> Iterable[StatementLine]:
    if not moves:
        return
    seqs = sorted(moves)
    entries: dict[int, Any] = {}
    postings: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for chunk in _chunks(seqs, 5000):  # entries are immutable: reading them later is still the same snapshot
        for row in conn.execute(select(entry_table).where(entry_table.c.seq.in_(chunk))):
            entries[row.seq] = row
        for seq, code, amount in conn.execute(
            select(posting_table.c.entry_seq, account_table.c.code, posting_table.c.amount)
            .join(account_table, account_table.c.id == posting_table.c.account_id)
            .where(posting_table.c.entry_seq.in_(chunk), posting_table.c.currency == currency)
        ):
            postings[seq].append((code, int(amount)))
    commission_code = chart.commission_revenue(currency)
    for seq in sorted(seqs, key=lambda s: (as_utc(entries[s].effective_at), s)):
        entry = entries[seq]
        meta = dict(entry._mapping["metadata"] or {})
        kind = entry.kind
        section = kinds.of_entry(kind, meta).section
        commission = gross = None
        brand_id = None
        co_owned = False
        creators_side = 0
        for code, amount in postings[seq]:
            if code == commission_code:
                commission = (commission or 0) - amount
            elif (found := chart.creator_account(code, *PURPOSES)) is not None:
                if found.purpose in ("payable", "recoverable"):
                    creators_side += amount
                if found.owner_id != creator_id and found.purpose != "reserve":
                    co_owned = True
            elif (party := chart.parse(code)) is not None and party.owner == "brand":
                brand_id = party.owner_id
        if commission is not None:  # a priced entry (sale, use, or a refund of one): its whole price
            gross = commission - creators_side
        licence_id = meta.get("licence_id")
        yield StatementLine(
            seq=seq,
            effective_at=as_utc(entry.effective_at),
            kind=kind,
            section=section,
            idempotency_key=entry.idempotency_key,
            memo=entry.memo,
            licence_id=int(licence_id)
            if isinstance(licence_id, int) or (isinstance(licence_id, str) and licence_id.isdigit())
            else None,
            brand_id=brand_id,
            gross=gross,
            commission=commission,
            change=readable(moves[seq]),
            co_owned=co_owned,
            meta=meta,
        )


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _summaries(lines: Iterable[StatementLine], section: str, by_brand: bool) -> tuple[Summary, ...]:
    """The section's lines summed per licence (and brand); prior-period adjustments stay apart."""
    groups: dict[tuple[int, int, int, int], list[StatementLine]] = defaultdict(list)
    for line in lines:
        if line.section == section and not line.late_from:
            brand = line.brand_id if by_brand else None
            # sort key: known licences (and brands) first, in id order
            groups[(line.licence_id is None, line.licence_id or 0, brand is None, brand or 0)].append(line)
    return tuple(
        Summary(
            group[0].licence_id,
            sum(_count(l) for l in group),
            sum(l.gross or 0 for l in group),
            sum(l.commission or 0 for l in group),
            sum(l.net for l in group),
            any(l.co_owned for l in group),
            group[0].brand_id if by_brand else None,
        )
        for _, group in sorted(groups.items())
    )


def _count(line: StatementLine) -> int:
    uses = line.meta.get("uses") if line.section == "uses" else None
    return uses if isinstance(uses, int) and not isinstance(uses, bool) and uses > 0 else 1


@dataclass(frozen=True)
class ActivePeriod:
    month: str  # "YYYY-MM" (UTC)
    currency: str


def months_with_activity(conn: Connection, creator_id: int) -> list[ActivePeriod]:
    """Every (calendar month UTC, currency) to which an entry that touched the creator's
    accounts belongs: newest month first, currencies alphabetical within a month."""
    month = belongs_to_month(entry_table, conn.dialect.name)
    query = (
        select(month, account_table.c.currency)
        .distinct()
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).join(
                account_table, account_table.c.id == posting_table.c.account_id
            )
        )
        .where(account_table.c.code.like(f"creator:{int(creator_id)}:%"))
    )
    found = sorted({(str(m), c) for m, c in conn.execute(query)}, key=lambda mc: mc[1])
    return [ActivePeriod(m, c) for m, c in sorted(found, key=lambda mc: mc[0], reverse=True)]


def creators_with_activity(conn: Connection, start: datetime, end: datetime) -> list[tuple[int, str]]:
    """(creator id, currency) pairs whose accounts moved in ``[start, end)``, sorted."""
    query = (
        select(account_table.c.code)
        .distinct()
        .select_from(
            posting_table.join(entry_table, entry_table.c.seq == posting_table.c.entry_seq).join(
                account_table, account_table.c.id == posting_table.c.account_id
            )
        )
        .where(account_table.c.code.like("creator:%"), belongs_within(entry_table, start, end))
    )
    found = {
        (account.owner_id, account.currency)
        for (code,) in conn.execute(query)
        if (account := chart.creator_account(code, *PURPOSES)) is not None
    }
    return sorted(found)


def period_statements(conn: Connection, start: datetime, end: datetime) -> Iterable[Statement]:
    """The statement of every creator and currency with activity in ``[start, end)``."""
    for creator_id, currency in creators_with_activity(conn, start, end):
        yield creator_statement(conn, creator_id, currency, start, end)
