"""The write path of the book: opening accounts and posting entries.

Every function takes a SQLAlchemy ``Session`` that belongs to the caller's unit of
work: the ledger never commits, so marketplace rows and their entries land in the
same transaction or not at all.

Posting one entry and posting a batch share one code path (``post`` is a batch of
one).  Per batch the statements are:

1. validate every draft in Python (invariant 1) and hash its content;
2. one SELECT resolving account codes, one SELECT of overlapping closed periods;
3. one multi-row ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING``
   for the entries — a key that exists already is an idempotent replay when its
   stored content hash matches, and a conflict otherwise (invariant 3);
4. one multi-row INSERT for the postings (a single statement per group of whole
   entries, which is what lets PostgreSQL's statement trigger check the balance);
   on PostgreSQL a small batch does steps 3 and 4 in one statement (a
   data-modifying CTE) and a large one loads its postings with COPY;
5. one guarded ``UPDATE`` per touched balance row, in (account, shard) order so
   concurrent writers lock rows in the same order and cannot deadlock (on
   PostgreSQL all of them in one statement that locks in that order).  The WHERE
   clause refuses to take a guarded account below zero (invariant 4), and a CHECK
   constraint on the row says the same again.

Busy accounts are opened with several balance shards, so writers rarely meet on a
row.  A house account (commission, Stripe clearing; unguarded) moves shard ``seq %
shards``.  A guarded account (a payable owed to someone, a receivable someone owes) moves by
its net change in the batch: away from zero — which the guard can never refuse, and
which is what every sale and metered use does — onto shard ``last seq % shards``;
towards zero (a payout, a refund, a paid invoice) by a *fold*: every shard row of the
account is locked, their sum plus the change goes to shard 0 and the others become
zero, refused if that sum would cross zero.  So the guard always sees the whole
balance, each row stays on its side of zero (the CHECK holds per row), and the
account's balance is the sum of its rows either way.
The hash chain is not computed here at all: ``ledger.chain.seal`` links committed
entries afterwards, so posting takes no global lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import canonical, sql
from .errors import (
    AccountConflict,
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientBalance,
    LedgerError,
    PeriodClosed,
    UnbalancedEntry,
    UnknownAccount,
)
from .models import (
    ACCOUNT_TYPES,
    NORMAL_SIGN,
    account_table,
    balance_table,
    closed_period_table,
    entry_table,
    posting_table,
)
from .money import CURRENCY_EXPONENTS, Money, MoneyError, check_minor
from .types import as_utc

MAX_ABS_AMOUNT = 2**62
ENTRY_CHUNK = 1000  # entries per INSERT statement
COPY_THRESHOLD = 64  # PostgreSQL: COPY postings above this many rows, INSERT below
POSTING_CHUNK = 5000  # postings per INSERT statement (4 binds each, under SQLite's 32766)

# How one balance row moves in a batch: (delta, last seq, fold); see Ledger._balance_moves.
BalanceMove = tuple[int, int, bool]


_OPENED_ACCOUNTS = "ledger.opened_accounts"  # session.info flag: this session created accounts

# Built once: SQLAlchemy caches their compiled form.
_SELECT_ACCOUNTS = select(
    account_table.c.id,
    account_table.c.code,
    account_table.c.type,
    account_table.c.currency,
    account_table.c.allow_negative,
    account_table.c.shards,
).where(account_table.c.code.in_(bindparam("codes", expanding=True)))
_SELECT_OVERLAPPING_PERIODS = select(
    closed_period_table.c.name, closed_period_table.c.starts_at, closed_period_table.c.ends_at
).where(and_(closed_period_table.c.ends_at > bindparam("first"), closed_period_table.c.starts_at <= bindparam("last")))


@dataclass(frozen=True)
class Line:
    """One posting of a draft: + debit, − credit, in ``currency`` minor units."""

    account: str
    amount: int
    currency: str


@dataclass(frozen=True)
class EntryDraft:
    idempotency_key: str
    kind: str
    effective_at: datetime
    lines: tuple[Line, ...]
    memo: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    reverses_seq: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        object.__setattr__(self, "effective_at", as_utc(self.effective_at))

    def content_hash(self) -> str:
        return canonical.content_hash(
            idempotency_key=self.idempotency_key,
            kind=self.kind,
            effective_at=self.effective_at,
            memo=self.memo,
            meta=dict(self.meta),
            reverses_seq=self.reverses_seq,
            postings=((l.account, l.amount, l.currency) for l in self.lines),
        )


@dataclass(frozen=True)
class PostedEntry:
    seq: int
    idempotency_key: str
    kind: str
    effective_at: datetime
    posted_at: datetime
    memo: str
    meta: Mapping[str, Any]
    reverses_seq: int | None
    content_hash: str
    lines: tuple[Line, ...]
    replayed: bool = False


@dataclass(frozen=True)
class AccountRef:
    id: int
    code: str
    type: str
    currency: str
    allow_negative: bool
    shards: int

    @property
    def guard(self) -> int:
        """+1/−1: the balance must stay on this side of zero; 0: unguarded."""
        return 0 if self.allow_negative else NORMAL_SIGN[self.type]

    def folds(self, delta: int) -> bool:
        """Whether moving the balance by ``delta`` must see the whole balance: a guarded
        account with several shards, moving towards zero."""
        return self.shards > 1 and delta * self.guard < 0


@dataclass(frozen=True)
class AccountDefinition:
    """The definition of an account to open."""

    code: str
    type: str
    currency: str
    allow_negative: bool = False
    shards: int = 1
    name: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.type not in ACCOUNT_TYPES:
            raise LedgerError(f"unknown account type {self.type!r}")
        if self.currency not in CURRENCY_EXPONENTS:
            raise LedgerError(f"unknown currency {self.currency!r}")
        if not 1 <= self.shards <= sql.MAX_SHARDS:
            raise LedgerError(f"an account has 1 to {sql.MAX_SHARDS} balance shards")


def validate_draft(draft: EntryDraft) -> None:
    """Invariant 1 and field limits, checked before anything touches the database."""
    if not isinstance(draft.idempotency_key, str) or not 0 < len(draft.idempotency_key) <= 200:
        raise UnbalancedEntry("idempotency key must be 1–200 characters")
    if not isinstance(draft.kind, str) or not 0 < len(draft.kind) <= 64:
        raise UnbalancedEntry("kind must be 1–64 characters")
    if len(draft.memo) > 500:
        raise UnbalancedEntry("memo is longer than 500 characters")
    if len(draft.lines) < 2:
        raise UnbalancedEntry(f"{draft.idempotency_key}: an entry needs at least two postings")
    totals: dict[str, int] = defaultdict(int)
    for line in draft.lines:
        try:
            check_minor(line.amount)
        except MoneyError as exc:
            raise UnbalancedEntry(str(exc)) from None
        if line.amount == 0:
            raise UnbalancedEntry(f"{draft.idempotency_key}: zero posting to {line.account}")
        if abs(line.amount) >= MAX_ABS_AMOUNT:
            raise UnbalancedEntry(f"{draft.idempotency_key}: amount out of range")
        if line.currency not in CURRENCY_EXPONENTS:
            raise UnbalancedEntry(f"{draft.idempotency_key}: unknown currency {line.currency!r}")
        totals[line.currency] += line.amount
    unbalanced = {cur: total for cur, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedEntry(f"{draft.idempotency_key}: postings do not sum to zero: {unbalanced}")
    try:
        canonical.check_json_value(dict(draft.meta))
    except ValueError as exc:
        raise UnbalancedEntry(str(exc)) from None


def subject_of(meta: Mapping[str, Any], key: str | None) -> int | None:
    """The entry's subject: ``meta[key]`` when it is an integer (or its decimal text)."""
    if key is None:
        return None
    value = meta.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < MAX_ABS_AMOUNT else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def reversal_draft(
    original: PostedEntry,
    *,
    idempotency_key: str,
    effective_at: datetime,
    memo: str = "",
    meta: Mapping[str, Any] | None = None,
) -> EntryDraft:
    """The mirror image of ``original``: every posting negated, pointing back at it."""
    return EntryDraft(
        idempotency_key=idempotency_key,
        kind="reversal",
        effective_at=effective_at,
        lines=tuple(Line(l.account, -l.amount, l.currency) for l in original.lines),
        memo=memo or f"reversal of entry {original.seq} ({original.kind})",
        meta={"reversed_kind": original.kind, **dict(meta or {})},
        reverses_seq=original.seq,
    )


class Ledger:
    """The book's service object; every method works inside the caller's session.

    Its only state is a cache of account definitions (id, type, currency, guard,
    shards), which never change once an account exists.  An account is cached only
    when it was read by a transaction that opened no accounts itself, so the cache
    can never hold a row that a rolled-back transaction created.

    ``subject_key`` names the metadata key whose integer value is each entry's
    ``subject`` (an indexed column: see ``ledger.models``); None keeps it empty.
    """

    def __init__(self, subject_key: str | None = None) -> None:
        self._known: dict[str, AccountRef] = {}
        self.subject_key = subject_key

    def subject_of(self, meta: Mapping[str, Any]) -> int | None:
        return subject_of(meta, self.subject_key)

    # -- accounts ---------------------------------------------------------------
    def open_account(
        self,
        session: Session,
        code: str,
        type: str,
        currency: str,
        *,
        allow_negative: bool = False,
        shards: int = 1,
        name: str = "",
        meta: Mapping[str, Any] | None = None,
    ) -> AccountRef:
        """Open ``code`` (idempotent: the same definition returns the existing account)."""
        spec = AccountDefinition(code, type, currency, allow_negative, shards, name, dict(meta or {}))
        return self.open_accounts(session, [spec])[code]

    def open_accounts(self, session: Session, specs: Sequence[AccountDefinition]) -> dict[str, AccountRef]:
        """Open every account in ``specs`` that does not exist yet — one INSERT for the
        accounts and one for their balance rows, however many there are (a first
        settlement run opens thousands of reserve accounts).  Existing accounts must
        have the same definition (``AccountConflict`` otherwise)."""
        by_code = {spec.code: spec for spec in specs}
        for spec in by_code.values():
            spec.check()
        existing = self.accounts(session, by_code)
        for code, ref in existing.items():
            spec = by_code[code]
            if (ref.type, ref.currency, ref.allow_negative, ref.shards) != (
                spec.type,
                spec.currency,
                spec.allow_negative,
                spec.shards,
            ):
                raise AccountConflict(f"account {code} exists with a different definition")
        new = [spec for code, spec in sorted(by_code.items()) if code not in existing]
        if not new:
            return existing
        session.info[_OPENED_ACCOUNTS] = True
        conn = session.connection()
        ids: dict[str, int] = dict(
            conn.execute(
                account_table.insert().returning(
                    account_table.c.code, account_table.c.id, sort_by_parameter_order=True
                ),
                [
                    dict(
                        code=spec.code,
                        type=spec.type,
                        currency=spec.currency,
                        allow_negative=spec.allow_negative,
                        shards=spec.shards,
                        name=spec.name,
                        metadata=spec.meta,
                    )
                    for spec in new
                ],
            ).all()
        )
        opened = {
            spec.code: AccountRef(ids[spec.code], spec.code, spec.type, spec.currency, spec.allow_negative, spec.shards)
            for spec in new
        }
        conn.execute(
            balance_table.insert(),
            [
                dict(account_id=ref.id, shard=s, amount=0, version=0, last_seq=0, guard=ref.guard)
                for ref in opened.values()
                for s in range(ref.shards)
            ],
        )
        return {**existing, **opened}

    def accounts(self, session: Session, codes: Iterable[str]) -> dict[str, AccountRef]:
        """The existing accounts among ``codes`` (known ones from the cache, the rest read)."""
        codes = set(codes)
        found = {code: self._known[code] for code in codes if code in self._known}
        missing = sorted(codes - set(found))
        if missing:
            rows = session.connection().execute(_SELECT_ACCOUNTS, {"codes": missing})
            read = {row.code: AccountRef(*row) for row in rows}
            if not session.info.get(_OPENED_ACCOUNTS):
                self._known.update(read)
            found.update(read)
        return found

    # -- posting ----------------------------------------------------------------
    def post(self, session: Session, draft: EntryDraft, *, now: datetime) -> PostedEntry:
        return self.post_batch(session, [draft], now=now)[0]

    def post_batch(self, session: Session, drafts: Sequence[EntryDraft], *, now: datetime) -> list[PostedEntry]:
        """Post many entries in the caller's transaction; all of them or none."""
        if not drafts:
            return []
        now = as_utc(now)
        hashes: dict[str, str] = {}
        for draft in drafts:
            validate_draft(draft)
            digest = draft.content_hash()
            if hashes.setdefault(draft.idempotency_key, digest) != digest:
                raise IdempotencyConflict(f"key {draft.idempotency_key} used twice with different content")
        unique = list({d.idempotency_key: d for d in drafts}.values())
        conn = session.connection()
        try:
            accounts = self._resolve_accounts(session, unique)
            if conn.dialect.name != "postgresql":  # PostgreSQL checks inside the INSERT
                self._check_periods(conn, unique)
            self._check_not_reversed(conn, unique)
            # PostgreSQL: one entry goes in one statement with its postings and balances;
            # a few postings ride in the entries' INSERT (one round trip less); many go
            # by COPY, which loads them faster than the joining INSERT does
            postgres = conn.dialect.name == "postgresql"
            one = postgres and len(unique) == 1 and len(unique[0].lines) <= COPY_THRESHOLD
            with_postings = postgres and sum(len(d.lines) for d in unique) <= COPY_THRESHOLD
            refused: list[int] = []
            if one:
                inserted, refused = self._post_one(conn, unique[0], hashes, now, accounts)
            else:
                inserted = self._insert_entries(conn, unique, hashes, now, accounts if with_postings else None)
            replayed = {d.idempotency_key for d in unique} - set(inserted)
            stored = self._load_by_keys(conn, replayed) if replayed else {}
            if len(stored) < len(replayed):  # neither inserted nor there before: a closed period
                self._check_periods(conn, [d for d in unique if d.idempotency_key in replayed - set(stored)])
                raise PeriodClosed("entry falls in a closed period")
            for key in replayed:
                if stored[key].content_hash != hashes[key]:
                    raise IdempotencyConflict(f"key {key} was used before for a different entry")
            fresh = [d for d in unique if d.idempotency_key in inserted]
            if refused:
                by_id = {ref.id: ref.code for ref in accounts.values()}
                raise InsufficientBalance(by_id[min(refused)])
            if not one:
                if not with_postings:
                    self._insert_postings(conn, fresh, inserted, accounts)
                self._apply_balances(conn, fresh, inserted, accounts)
        except DBAPIError as exc:
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc
        results: dict[str, PostedEntry] = dict(stored)
        for d in fresh:
            results[d.idempotency_key] = PostedEntry(
                seq=inserted[d.idempotency_key],
                idempotency_key=d.idempotency_key,
                kind=d.kind,
                effective_at=d.effective_at,
                posted_at=now,
                memo=d.memo,
                meta=d.meta,
                reverses_seq=d.reverses_seq,
                content_hash=hashes[d.idempotency_key],
                lines=d.lines,
            )
        return [results[d.idempotency_key] for d in drafts]

    def reverse(
        self,
        session: Session,
        seq: int,
        *,
        idempotency_key: str,
        now: datetime,
        effective_at: datetime | None = None,
        memo: str = "",
        meta: Mapping[str, Any] | None = None,
    ) -> PostedEntry:
        """Post the mirror image of entry ``seq`` (once; invariant 2's correction path)."""
        original = self.entry(session, seq)
        if original is None:
            raise LedgerError(f"no entry {seq} to reverse")
        if original.reverses_seq is not None:
            raise LedgerError(f"entry {seq} is itself a reversal; post a new entry instead")
        draft = reversal_draft(
            original, idempotency_key=idempotency_key, effective_at=effective_at or now, memo=memo, meta=meta
        )
        return self.post(session, draft, now=now)

    # -- reads ------------------------------------------------------------------
    def entry(self, session: Session, seq: int) -> PostedEntry | None:
        rows = session.connection().execute(select(entry_table).where(entry_table.c.seq == seq)).all()
        return _with_lines(session.connection(), rows)[0] if rows else None

    def balance(self, session: Session, code: str) -> Money:
        """Current signed balance (debits positive) — O(1) for ordinary accounts."""
        row = (
            session.connection()
            .execute(
                select(account_table.c.currency, func.coalesce(func.sum(balance_table.c.amount), 0))
                .join(balance_table, balance_table.c.account_id == account_table.c.id)
                .where(account_table.c.code == code)
                .group_by(account_table.c.currency)
            )
            .first()
        )
        if row is None:
            raise UnknownAccount(code)
        return Money(int(row[1]), row[0])

    # -- internals ----------------------------------------------------------------
    def _resolve_accounts(self, session: Session, drafts: Sequence[EntryDraft]) -> dict[str, AccountRef]:
        wanted = {l.account for d in drafts for l in d.lines}
        accounts = self.accounts(session, wanted)
        for d in drafts:
            for line in d.lines:
                ref = accounts.get(line.account)
                if ref is None:
                    raise UnknownAccount(f"{d.idempotency_key}: no account {line.account}")
                if ref.currency != line.currency:
                    raise UnbalancedEntry(
                        f"{d.idempotency_key}: {line.currency} posting to {ref.currency} account {ref.code}"
                    )
        return accounts

    def _check_periods(self, conn: Connection, drafts: Sequence[EntryDraft]) -> None:
        first = min(d.effective_at for d in drafts)
        last = max(d.effective_at for d in drafts)
        closed = conn.execute(_SELECT_OVERLAPPING_PERIODS, {"first": first, "last": last}).all()
        for d in drafts:
            for name, starts_at, ends_at in closed:
                if starts_at <= d.effective_at < ends_at:
                    raise PeriodClosed(f"{d.idempotency_key}: period {name} is closed")

    def _check_not_reversed(self, conn: Connection, drafts: Sequence[EntryDraft]) -> None:
        targets = {d.reverses_seq: d.idempotency_key for d in drafts if d.reverses_seq is not None}
        if not targets:
            return
        rows = conn.execute(
            select(entry_table.c.reverses_seq, entry_table.c.idempotency_key).where(
                entry_table.c.reverses_seq.in_(targets)
            )
        )
        for reversed_seq, key in rows:
            if key != targets[reversed_seq]:
                raise AlreadyReversed(f"entry {reversed_seq} was already reversed by {key}")

    def _insert_entries(
        self,
        conn: Connection,
        drafts: Sequence[EntryDraft],
        hashes: Mapping[str, str],
        now: datetime,
        accounts: Mapping[str, AccountRef] | None = None,
    ) -> dict[str, int]:
        """Insert the entries ({key: seq} of those inserted); on PostgreSQL, given
        ``accounts``, their postings go in the same statement."""
        dialect = conn.dialect.name
        posted_at = sql.db_time(now, dialect)
        inserted: dict[str, int] = {}
        for start in range(0, len(drafts), ENTRY_CHUNK):
            chunk = drafts[start : start + ENTRY_CHUNK]
            rows = [
                (
                    d.idempotency_key,
                    d.kind,
                    sql.db_time(d.effective_at, dialect),
                    posted_at,
                    d.memo,
                    d.reverses_seq,
                    sql.db_json(d.meta),
                    hashes[d.idempotency_key],
                    self.subject_of(d.meta),
                )
                for d in chunk
            ]
            if dialect == "postgresql" and accounts is not None:
                postings = [
                    (d.idempotency_key, accounts[l.account].id, l.amount, l.currency) for d in chunk for l in d.lines
                ]
                result = conn.exec_driver_sql(
                    sql.PG_INSERT_ENTRIES_WITH_POSTINGS,
                    tuple(list(col) for col in zip(*rows, strict=True))
                    + tuple(list(col) for col in zip(*postings, strict=True)),
                )
            elif dialect == "postgresql":
                result = conn.exec_driver_sql(
                    sql.PG_INSERT_ENTRIES, tuple(list(col) for col in zip(*rows, strict=True))
                )
            else:
                result = conn.exec_driver_sql(
                    sql.insert_entries(dialect, len(rows)), tuple(v for row in rows for v in row)
                )
            inserted.update({key: seq for seq, key in result})
        return inserted

    def _post_one(
        self,
        conn: Connection,
        draft: EntryDraft,
        hashes: Mapping[str, str],
        now: datetime,
        accounts: Mapping[str, AccountRef],
    ) -> tuple[dict[str, int], list[int]]:
        """PostgreSQL: one entry, its postings and its balances in one statement:
        ({key: seq} if it went in, the accounts whose balance guard refused it)."""
        effective_at = as_utc(draft.effective_at)
        params: list[Any] = [
            draft.idempotency_key,
            draft.kind,
            as_utc(now),
            draft.memo,
            draft.reverses_seq,
            sql.db_json(draft.meta),
            hashes[draft.idempotency_key],
            self.subject_of(draft.meta),
            effective_at,
        ]
        net: dict[str, int] = defaultdict(int)
        for line in draft.lines:
            net[line.account] += line.amount
        for line in draft.lines:
            ref = accounts[line.account]
            fold = ref.folds(net[line.account])
            params += (ref.id, line.amount, line.currency, 1 if fold else ref.shards, fold)  # a fold ends on shard 0
        rows = sql.on_driver(conn, sql.pg_post_one_entry(len(draft.lines)), tuple(params))
        if not rows:
            return {}, []
        seq, key, refused = rows[0]
        return {key: seq}, list(refused)

    def _insert_postings(
        self,
        conn: Connection,
        drafts: Sequence[EntryDraft],
        seqs: Mapping[str, int],
        accounts: Mapping[str, AccountRef],
    ) -> None:
        """All postings of an entry go in one statement (PostgreSQL's balance trigger needs that)."""
        dialect = conn.dialect.name
        rows: list[tuple[int, int, int, str]] = []

        def flush() -> None:
            if dialect == "postgresql" and len(rows) > COPY_THRESHOLD:
                # COPY is PostgreSQL's fastest load path; it fires the same constraint and
                # statement triggers as INSERT (one COPY is one statement).  For a handful of
                # rows its extra protocol round trips cost more than a plain INSERT.
                with sql.driver_connection(conn).cursor().copy(sql.PG_COPY_POSTINGS) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                conn.exec_driver_sql(sql.insert_postings(dialect, len(rows)), tuple(v for row in rows for v in row))
            rows.clear()

        for d in drafts:
            if len(rows) + len(d.lines) > POSTING_CHUNK:
                flush()
            seq = seqs[d.idempotency_key]
            rows.extend((seq, accounts[l.account].id, l.amount, l.currency) for l in d.lines)
        if rows:
            flush()

    @staticmethod
    def _balance_moves(
        drafts: Sequence[EntryDraft], seqs: Mapping[str, int], accounts: Mapping[str, AccountRef]
    ) -> dict[tuple[int, int], BalanceMove]:
        """{(account id, shard): (delta, last seq, fold)} for posting ``drafts``, in
        (account, shard) order — the lock order.  A house account moves shard ``seq %
        shards`` entry by entry; a guarded account moves by its net change (see the
        module docstring)."""
        moves: dict[tuple[int, int], list[int]] = {}  # unguarded: (id, shard) -> [delta, last seq]
        net: dict[int, tuple[AccountRef, list[int]]] = {}  # guarded accounts: id -> (ref, [delta, last seq])
        for d in drafts:
            seq = seqs[d.idempotency_key]
            for line in d.lines:
                ref = accounts[line.account]
                if ref.guard:
                    move = net.setdefault(ref.id, (ref, [0, 0]))[1]
                else:
                    move = moves.setdefault((ref.id, seq % ref.shards), [0, 0])
                move[0] += line.amount
                move[1] = max(move[1], seq)
        result = {key: (delta, last, False) for key, (delta, last) in moves.items()}
        for account_id, (ref, (delta, last)) in net.items():
            fold = ref.folds(delta)
            result[(account_id, 0 if fold else last % ref.shards)] = (delta, last, fold)
        return {key: move for key, move in sorted(result.items()) if move[0] != 0}

    def _apply_balances(
        self,
        conn: Connection,
        drafts: Sequence[EntryDraft],
        seqs: Mapping[str, int],
        accounts: Mapping[str, AccountRef],
    ) -> None:
        moves = self._balance_moves(drafts, seqs, accounts)
        codes = {ref.id: ref.code for ref in accounts.values()}
        dialect = conn.dialect.name
        if dialect == "postgresql" and (len(moves) > 1 or any(fold for _, _, fold in moves.values())):
            keys = list(moves)
            columns = (
                [a for a, _ in keys],
                [s for _, s in keys],
                [moves[k][0] for k in keys],
                [moves[k][1] for k in keys],
                [moves[k][2] for k in keys],
            )
            updated = set(map(tuple, conn.exec_driver_sql(sql.PG_UPDATE_BALANCES, columns)))
            for key in keys:
                if key not in updated:
                    raise InsufficientBalance(codes[key[0]])
            return
        for (account_id, shard), (delta, last, fold) in moves.items():
            if fold:  # SQLite only (PostgreSQL folds above): the one writer, so the total stays true
                total = int(conn.exec_driver_sql(sql.account_total(dialect), (account_id,)).scalar_one()) + delta
                moved = conn.exec_driver_sql(sql.fold_balance(dialect), (total, last, account_id, total)).rowcount > 0
            else:
                moved = (
                    conn.exec_driver_sql(sql.update_balance(dialect), (delta, last, account_id, shard, delta)).rowcount
                    == 1
                )
            if not moved:
                raise InsufficientBalance(codes[account_id])

    def _load_by_keys(self, conn: Connection, keys: Iterable[str]) -> dict[str, PostedEntry]:
        rows = conn.execute(select(entry_table).where(entry_table.c.idempotency_key.in_(sorted(keys)))).all()
        return {e.idempotency_key: e for e in _with_lines(conn, rows, replayed=True)}


def _with_lines(
    conn: Connection, entry_rows: Sequence[Row[*tuple[Any, ...]]], replayed: bool = False
) -> list[PostedEntry]:
    seqs = [r.seq for r in entry_rows]
    lines: dict[int, list[Line]] = defaultdict(list)
    for entry_seq, code, amount, currency in conn.execute(
        select(posting_table.c.entry_seq, account_table.c.code, posting_table.c.amount, posting_table.c.currency)
        .join(account_table, account_table.c.id == posting_table.c.account_id)
        .where(posting_table.c.entry_seq.in_(seqs))
        .order_by(posting_table.c.id)
    ):
        lines[entry_seq].append(Line(code, amount, currency))
    return [
        PostedEntry(
            seq=r.seq,
            idempotency_key=r.idempotency_key,
            kind=r.kind,
            effective_at=r.effective_at,
            posted_at=r.posted_at,
            memo=r.memo,
            meta=MappingProxyType(dict(r.metadata or {})),
            reverses_seq=r.reverses_seq,
            content_hash=r.content_hash,
            lines=tuple(lines[r.seq]),
            replayed=replayed,
        )
        for r in entry_rows
    ]


def _translate(exc: DBAPIError) -> LedgerError | None:
    """Map the database's own refusals (triggers, constraints) to ledger errors."""
    text = str(exc.orig)
    if "closed period" in text:
        return PeriodClosed(text.splitlines()[0])
    if "ck_ledger_balance_not_below_zero" in text:
        return InsufficientBalance("?", text.splitlines()[0])
    if "does not balance" in text or "fewer than two postings" in text:
        return UnbalancedEntry(text.splitlines()[0])
    if "append-only" in text:
        return LedgerError(text.splitlines()[0])
    return None
