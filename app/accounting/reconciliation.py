"""Reconciling a period: the ledger against Stripe, in pandas.

Three sections, each a frame with one row per thing that should exist on both sides:

``transfers``  payout entries (kind ``payout.transfer``) against Stripe Transfers,
               matched on the ledger key every settlement transfer carries in its
               metadata (``ledger_key``); compared on currency and on the net amount
               after reversals, so a payout reversed in the ledger whose transfer was
               reversed in Stripe nets out as matched.
``sales``      sale entries (``licence.sale``, ``usage.invoice_paid``) against the
               charges named in their ``meta.charge``: currency, gross and fee.
``balance``    the period's Stripe balance transactions summed per (type, currency)
               against the ledger's movements of ``platform:stripe:CUR`` mapped to the
               same types (a sale is a ``charge``, a payout a ``transfer``, …): the
               cash view, which also catches money no object above explains.

Every row gets one category of ``CATEGORIES`` and carries the ledger's seq/key and
Stripe's ids for drill-down.  The core (``match_frames`` and the three ``*_frame``
builders) is pure: frames in, frames out, money as nullable ``Int64`` — never float.
``reconcile`` gathers both sides (the ledger through the caller's session, Stripe
through the gateway) and runs the core.

Scope of a period ``P`` = ``[start, end)``: payouts effective in the range or made
for ``P`` (``meta.period``), transfers created in the range or in ``settlement-P``;
each side then pulls in the counterparts the other side names (a transfer's ledger
key, an entry's transfer group), so a payout posted at 23:59:59 whose transfer was
created a second later matches instead of showing as missing on both sides.

Every entry kind has its place:

* a payout's net amount is what is left after its reversals — the full reversal
  (``reversal`` of the payout entry) and every partial one (``payout.reversal``, naming
  the payout in ``meta.payout_key``) — as Stripe's transfer shows ``amount_reversed``;
* cash is typed by the kind catalogue (``kinds.of_entry(...).balance_type``): a payout
  is a ``transfer``, its reversals ``transfer_refund``, a refund ``refund``, a dispute an
  ``adjustment``;
* a payout Stripe refused (declined, not enough available funds) never moved money:
  it and its reversal (``meta.transfer_failed``) are not cash, so a failed-then-retried
  transfer counts once;
* late money booked after its month was closed (``meta.original_effective_at``) is cash
  of the month Stripe moved it in, its original date, not of the month it was booked in.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Row, and_, or_, select
from sqlalchemy.orm import Session

from app.books import kinds
from app.db import UnitOfWork
from app.kit import csvfile
from app.payments.gateway import (
    BalanceTransaction,
    InvalidPaymentRequest,
    PaymentError,
    PaymentGateway,
    Transfer,
)
from app.payments.problems import provider_problem
from app.people.actors import Actor
from app.settlement.planning import transfer_group
from ledger.canonical import iso_utc
from ledger.models import account_table, entry_table, posting_table
from ledger.periods import ORIGINAL_EFFECTIVE_AT

from .periods import Period, parse_period

STAFF_ROLES = ("accountant", "admin", "system")

CATEGORIES = ("matched", "missing_in_stripe", "missing_in_ledger", "amount_mismatch", "currency_mismatch")
SECTIONS = ("transfers", "sales", "balance")
PAYOUT_KIND = kinds.PAYOUT_TRANSFER.name
PARTIAL_REVERSAL_KIND = kinds.PAYOUT_REVERSAL.name
FAILED_TRANSFER = "transfer_failed"  # meta of the reversal of a payout Stripe never made
SALE_KINDS = kinds.with_stripe_object("charge")  # money in through a Stripe charge
# how far outside the period a counterpart (late transfer, payout made for the period) is looked for
PAYOUT_WINDOW = timedelta(days=93)
SALE_WINDOW = timedelta(days=7)


# columns of each side, before matching (``match_key`` joins them)
TRANSFER_LEDGER = (
    "match_key",
    "seq",
    "key",
    "creator_id",
    "item_id",
    "currency",
    "amount",
    "reversed",
    "net",
    "reversal_seq",
    "effective_at",
)
TRANSFER_STRIPE = (
    "match_key",
    "id",
    "destination",
    "transfer_group",
    "currency",
    "amount",
    "reversed",
    "net",
    "created",
)
SALE_LEDGER = ("match_key", "seq", "key", "kind", "currency", "gross", "fee", "net", "effective_at")
SALE_STRIPE = ("match_key", "id", "balance_transaction", "currency", "gross", "fee", "net")
BALANCE_SIDE = ("match_key", "type", "currency", "net", "count")
MONEY = {"amount", "reversed", "net", "gross", "fee", "count", "seq", "reversal_seq", "creator_id", "item_id"}
UNIFORM = (
    "section",
    "category",
    "match_key",
    "ledger_seq",
    "ledger_key",
    "ledger_currency",
    "ledger_net",
    "stripe_id",
    "stripe_currency",
    "stripe_net",
    "difference",
    "note",
)


# --- the pure core -----------------------------------------------------------------------


def side_frame(
    rows: Iterable[Mapping[str, Any]] | Iterable[Mapping[Hashable, Any]], columns: Sequence[str]
) -> pd.DataFrame:
    """A frame with exactly ``columns``; integer columns are nullable Int64 (never float)."""
    frame = pd.DataFrame(list(rows), columns=list(columns))
    # an all-missing text/time column would otherwise come out as float NaN
    blank = {c: object for c in columns if c not in MONEY and frame[c].isna().all()}
    return frame.astype({**{c: "Int64" for c in columns if c in MONEY}, **blank})


def _mask(series: pd.Series) -> pd.Series:
    return pd.Series(series.to_numpy(dtype=bool, na_value=False), index=series.index)


def match_frames(ledger: pd.DataFrame, stripe: pd.DataFrame, amounts: Sequence[str]) -> pd.DataFrame:
    """Outer-join the two sides on ``match_key`` and give every row its category.

    Columns come out prefixed ``ledger_``/``stripe_``.  A row on one side only whose
    amounts are all zero (a payout reversed before any transfer was made, a transfer
    reversed in full) has nothing to match and counts as matched.
    """
    left = ledger.add_prefix("ledger_").rename(columns={"ledger_match_key": "match_key"})
    right = stripe.add_prefix("stripe_").rename(columns={"stripe_match_key": "match_key"})
    merged = left.merge(right, on="match_key", how="outer", indicator=True, sort=True)
    in_ledger = _mask(merged["_merge"] != "right_only")
    in_stripe = _mask(merged["_merge"] != "left_only")
    both = in_ledger & in_stripe
    currency_differs = both & _mask(merged["ledger_currency"] != merged["stripe_currency"])
    amount_differs = pd.Series(False, index=merged.index)
    for name in amounts:
        amount_differs |= _mask(merged[f"ledger_{name}"] != merged[f"stripe_{name}"])
    amount_differs &= both & ~currency_differs
    ledger_zero = pd.Series(True, index=merged.index)
    stripe_zero = pd.Series(True, index=merged.index)
    for name in amounts:
        ledger_zero &= _mask(merged[f"ledger_{name}"].fillna(0) == 0)
        stripe_zero &= _mask(merged[f"stripe_{name}"].fillna(0) == 0)

    category = pd.Series("matched", index=merged.index, dtype=object)
    note = pd.Series("", index=merged.index, dtype=object)
    ledger_only, stripe_only = in_ledger & ~in_stripe, in_stripe & ~in_ledger
    category[ledger_only & ~ledger_zero] = "missing_in_stripe"
    category[stripe_only & ~stripe_zero] = "missing_in_ledger"
    note[ledger_only & ledger_zero] = "ledger only, nets to zero"
    note[stripe_only & stripe_zero] = "Stripe only, nets to zero"
    category[amount_differs] = "amount_mismatch"
    category[currency_differs] = "currency_mismatch"
    merged.insert(0, "category", category)
    merged["note"] = note
    main = amounts[0]
    merged["difference"] = (merged[f"stripe_{main}"].fillna(0) - merged[f"ledger_{main}"].fillna(0)).astype("Int64")
    return merged.drop(columns="_merge").reset_index(drop=True)


def transfers_frame(ledger: pd.DataFrame, stripe: pd.DataFrame) -> pd.DataFrame:
    return match_frames(ledger, stripe, ["net"])


def sales_frame(ledger: pd.DataFrame, stripe: pd.DataFrame) -> pd.DataFrame:
    return match_frames(ledger, stripe, ["gross", "fee"])


def balance_frame(ledger_movements: pd.DataFrame, stripe_transactions: pd.DataFrame) -> pd.DataFrame:
    """Per (type, currency) totals of the net cash movement on each side, then matched.

    ``ledger_movements``: one row per ``platform:stripe`` posting (type, currency, net);
    ``stripe_transactions``: one row per balance transaction (type, currency, net)."""

    def totals(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return side_frame([], BALANCE_SIDE)
        grouped = frame.groupby(["type", "currency"], as_index=False).agg(net=("net", "sum"), count=("net", "size"))
        grouped["match_key"] = grouped["type"] + ":" + grouped["currency"]
        return side_frame(grouped.to_dict("records"), BALANCE_SIDE)

    return match_frames(totals(ledger_movements), totals(stripe_transactions), ["net"])


# --- the result ----------------------------------------------------------------------------


@dataclass
class Reconciliation:
    period: Period
    sections: dict[str, pd.DataFrame] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, int]]:
        """section → category → row count (every category present, zeros included)."""
        out = {}
        for name in SECTIONS:
            counts = self.sections[name]["category"].value_counts()
            out[name] = {c: int(counts.get(c, 0)) for c in CATEGORIES}
        return out

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(CATEGORIES, 0)
        for counts in self.summary().values():
            for category, n in counts.items():
                out[category] += n
        return out

    @property
    def unmatched_count(self) -> int:
        return sum(n for c, n in self.totals().items() if c != "matched")

    @property
    def reconciled(self) -> bool:
        return self.unmatched_count == 0

    def rows(self, section: str, category: str | None = None) -> pd.DataFrame:
        frame = self.sections[section]
        return frame if category is None else frame[frame["category"] == category].reset_index(drop=True)

    def uniform(self, *, unmatched_only: bool = False) -> pd.DataFrame:
        """Every section in the same columns (net amounts), for tables, the CLI and CSV."""
        parts = []
        for name in SECTIONS:
            frame = self.sections[name].assign(section=name)
            if unmatched_only:
                frame = frame[frame["category"] != "matched"]
            parts.append(frame.reindex(columns=list(UNIFORM)))
        joined = pd.concat(parts, ignore_index=True) if any(len(p) for p in parts) else parts[0]
        return joined.astype(
            {"ledger_seq": "Int64", "ledger_net": "Int64", "stripe_net": "Int64", "difference": "Int64"}
        )

    def csv_bytes(self) -> bytes:
        """All rows of all sections with their own columns (union), amounts as integers."""
        frames = [self.sections[name].assign(section=name) for name in SECTIONS]
        joined = (
            pd.concat([f for f in frames if len(f)], ignore_index=True)
            if any(len(f) for f in frames)
            else pd.DataFrame(columns=["section", "category", "match_key"])
        )
        first = ["section", "category", "match_key"]
        joined = joined[first + [c for c in joined.columns if c not in first]]
        return csvfile.frame_bytes(joined)

    def report(self, *, max_rows: int = 500) -> dict[str, Any]:
        """JSON-ready summary and the unmatched rows (integers, ISO strings, None)."""
        return {
            "period": self.period.name,
            "summary": self.summary(),
            "totals": self.totals(),
            "unmatched_count": self.unmatched_count,
            "unmatched": records(self.uniform(unmatched_only=True).head(max_rows)),
        }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values: Int64 → int, NA → None, timestamps → ISO text."""
    out: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for column, value in row.items():
            key = str(column)  # the frames' column names are text already
            if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
                clean[key] = None
            elif isinstance(value, (pd.Timestamp, datetime)):
                clean[key] = value.isoformat()
            elif hasattr(value, "item"):
                clean[key] = value.item()
            else:
                clean[key] = value
        out.append(clean)
    return out


# --- gathering: the ledger side ------------------------------------------------------------------


def _entries(session: Session, *conditions: ColumnElement[bool]) -> Sequence[Row[*tuple[Any, ...]]]:
    return (
        session.connection()
        .execute(
            select(
                entry_table.c.seq,
                entry_table.c.idempotency_key,
                entry_table.c.kind,
                entry_table.c.effective_at,
                entry_table.c.metadata,
                entry_table.c.reverses_seq,
            )
            .where(*conditions)
            .order_by(entry_table.c.seq)
        )
        .all()
    )


def _house_postings(session: Session, seqs: Sequence[int]) -> dict[int, dict[str, tuple[int, str]]]:
    """seq → {"stripe"|"fees": (amount, currency)} for the Stripe clearing and fee accounts."""
    out: dict[int, dict[str, tuple[int, str]]] = {}
    for start in range(0, len(seqs), 500):
        chunk = list(seqs[start : start + 500])
        rows = session.connection().execute(
            select(posting_table.c.entry_seq, account_table.c.code, posting_table.c.amount, posting_table.c.currency)
            .join(account_table, account_table.c.id == posting_table.c.account_id)
            .where(
                posting_table.c.entry_seq.in_(chunk),
                or_(
                    account_table.c.code.like("platform:stripe:%"), account_table.c.code.like("platform:fees:stripe:%")
                ),
            )
        )
        for seq, code, amount, currency in rows:
            which = "fees" if code.startswith("platform:fees:") else "stripe"
            before = out.setdefault(seq, {}).get(which, (0, currency))[0]
            out[seq][which] = (before + int(amount), currency)
    return out


def _meta(row) -> dict[str, Any]:
    return dict(row.metadata or {})


def payout_rows(session: Session, period: Period, *, extra_keys: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Payout entries in scope (effective in the period or made for it), plus those named by ``extra_keys``."""
    window = _entries(
        session,
        entry_table.c.kind == PAYOUT_KIND,
        entry_table.c.effective_at >= period.starts_at - PAYOUT_WINDOW,
        entry_table.c.effective_at < period.ends_at + PAYOUT_WINDOW,
    )
    chosen = {r.seq: r for r in window if period.contains(r.effective_at) or _meta(r).get("period") == period.name}
    wanted = sorted(set(extra_keys) - {r.idempotency_key for r in chosen.values()})
    if wanted:
        for r in _entries(session, entry_table.c.kind == PAYOUT_KIND, entry_table.c.idempotency_key.in_(wanted)):
            chosen[r.seq] = r
    seqs = sorted(chosen)
    reversals = {r.reverses_seq: r for r in _entries(session, entry_table.c.reverses_seq.in_(seqs))} if seqs else {}
    partial = _partial_reversals(session, chosen.values())
    money = _house_postings(
        session, seqs + [r.seq for r in reversals.values()] + [r.seq for rs in partial.values() for r in rs]
    )
    rows = []
    for seq in seqs:
        entry, meta = chosen[seq], _meta(chosen[seq])
        amount, currency = money.get(seq, {}).get("stripe", (0, None))
        reversal = reversals.get(seq)
        reversed_amount = money.get(reversal.seq, {}).get("stripe", (0, currency))[0] if reversal else 0
        reversed_amount += sum(
            money.get(r.seq, {}).get("stripe", (0, currency))[0] for r in partial.get(entry.idempotency_key, ())
        )
        rows.append(
            dict(
                match_key=entry.idempotency_key,
                seq=seq,
                key=entry.idempotency_key,
                creator_id=meta.get("creator_id"),
                item_id=meta.get("item_id"),
                currency=currency,
                amount=-amount,
                reversed=reversed_amount,
                net=-amount - reversed_amount,
                reversal_seq=reversal.seq if reversal else None,
                effective_at=entry.effective_at,
                transfer_group=meta.get("transfer_group"),
            )
        )
    return rows


def _payout_key_of(entry) -> str:
    """The payout a partial reversal gives back part of (``meta.payout_key``; older entries: its key)."""
    return str(_meta(entry).get("payout_key") or entry.idempotency_key.rsplit(":reversed:", 1)[0])


def _partial_reversals(session: Session, payouts: Iterable[Any]) -> dict[str, list[Any]]:
    """payout key → its ``payout.reversal`` entries (found through the payouts' transfer groups)."""
    keys = {p.idempotency_key for p in payouts}
    groups = sorted({str(_meta(p).get("transfer_group")) for p in payouts if _meta(p).get("transfer_group")})
    found: dict[str, list[Any]] = {}
    if not groups:
        return found
    for entry in _entries(
        session,
        entry_table.c.kind == PARTIAL_REVERSAL_KIND,
        entry_table.c.metadata["transfer_group"].as_string().in_(groups),
    ):
        key = _payout_key_of(entry)
        if key in keys:
            found.setdefault(key, []).append(entry)
    return found


def sale_rows(session: Session, period: Period, *, window: timedelta = timedelta(0)) -> list[dict[str, Any]]:
    entries = _entries(
        session,
        entry_table.c.kind.in_(SALE_KINDS),
        entry_table.c.effective_at >= period.starts_at - window,
        entry_table.c.effective_at < period.ends_at + window,
    )
    money = _house_postings(session, [e.seq for e in entries])
    rows = []
    for entry in entries:
        net, currency = money.get(entry.seq, {}).get("stripe", (0, None))
        fee = money.get(entry.seq, {}).get("fees", (0, currency))[0]
        charge = _meta(entry).get("charge")
        rows.append(
            dict(
                match_key=charge or f"ledger:{entry.idempotency_key}",
                seq=entry.seq,
                key=entry.idempotency_key,
                kind=entry.kind,
                currency=currency,
                gross=net + fee,
                fee=fee,
                net=net,
                effective_at=entry.effective_at,
                charge=charge,
            )
        )
    return rows


def cash_movements(session: Session, period: Period) -> list[dict[str, Any]]:
    """Every posting to a ``platform:stripe:CUR`` account whose money moved in the period (its
    original date for late entries), typed as Stripe would; payouts Stripe never made left out."""
    original = entry_table.c.metadata[ORIGINAL_EFFECTIVE_AT].as_string()
    rows = (
        session.connection()
        .execute(
            select(
                entry_table.c.seq,
                entry_table.c.kind,
                entry_table.c.metadata,
                entry_table.c.reverses_seq,
                entry_table.c.idempotency_key,
                posting_table.c.amount,
                posting_table.c.currency,
            )
            .join(posting_table, posting_table.c.entry_seq == entry_table.c.seq)
            .join(account_table, account_table.c.id == posting_table.c.account_id)
            .where(
                account_table.c.code.like("platform:stripe:%"),
                entry_table.c.effective_at >= period.starts_at,  # a late entry is booked after its own date
                or_(
                    and_(original.is_(None), entry_table.c.effective_at < period.ends_at),
                    and_(original >= iso_utc(period.starts_at), original < iso_utc(period.ends_at)),
                ),
            )
        )
        .all()
    )
    never_made = _never_made(session, rows)
    out = []
    for seq, kind, meta, _reverses, _key, amount, currency in rows:
        if seq in never_made:
            continue
        out.append(dict(seq=seq, type=kinds.of_entry(kind, meta).balance_type, currency=currency, net=int(amount)))
    return out


def _is_failed_transfer(meta: Mapping[str, Any] | None, key: str) -> bool:
    return bool((meta or {}).get(FAILED_TRANSFER)) or key.endswith(":failed")  # older entries: by their key


def _never_made(session: Session, rows: Sequence[Any]) -> set[int]:
    """Seqs of payouts Stripe refused and of their reversals: neither moved any money."""
    failed = {r.seq for r in rows if r.reverses_seq is not None and _is_failed_transfer(r.metadata, r.idempotency_key)}
    out = failed | {r.reverses_seq for r in rows if r.seq in failed}
    payouts = sorted({r.seq for r in rows if r.kind == PAYOUT_KIND} - out)
    for start in range(0, len(payouts), 500):  # a payout whose failure reversal is in another period
        for reversal in _entries(session, entry_table.c.reverses_seq.in_(payouts[start : start + 500])):
            if _is_failed_transfer(reversal.metadata, reversal.idempotency_key):
                out.add(reversal.reverses_seq)
    return out


# --- gathering: the Stripe side -------------------------------------------------------------------


def transfer_row(t: Transfer) -> dict[str, Any]:
    return dict(
        match_key=t.metadata.get("ledger_key") or f"stripe:{t.id}",
        id=t.id,
        destination=t.destination,
        transfer_group=t.transfer_group,
        currency=t.currency,
        amount=t.amount,
        reversed=t.amount_reversed,
        net=t.amount - t.amount_reversed,
        created=t.created,
    )


@dataclass
class StripeSide:
    transfers: dict[str, Transfer]
    balance_transactions: list[BalanceTransaction]
    charges: dict[str, dict[str, Any]]  # charge id → sale-side row


def fetch_stripe_side(
    gateway: PaymentGateway, period: Period, payouts: Sequence[Mapping[str, Any]], sales: Sequence[Mapping[str, Any]]
) -> StripeSide:
    """Everything Stripe says about the period (and the counterparts the ledger names)."""
    transfers = {t.id: t for t in gateway.list_transfers(created_gte=period.starts_at, created_lt=period.ends_at)}
    groups = {transfer_group(period)} | {p["transfer_group"] for p in payouts if p.get("transfer_group")}
    for group in sorted(groups):
        transfers.update({t.id: t for t in gateway.list_transfers(transfer_group=group)})
    transactions = list(gateway.list_balance_transactions(created_gte=period.starts_at, created_lt=period.ends_at))
    charges = {
        t.source: dict(
            match_key=t.source,
            id=t.source,
            balance_transaction=t.id,
            currency=t.currency,
            gross=t.amount,
            fee=t.fee,
            net=t.net,
        )
        for t in transactions
        if t.type == "charge" and t.source
    }
    for sale in sales:  # a sale whose charge falls just outside the range
        charge_id = sale.get("charge")
        if charge_id and charge_id not in charges:
            try:
                info = gateway.retrieve_charge(charge_id=charge_id)
            except InvalidPaymentRequest:
                continue  # Stripe has no such charge: missing_in_stripe
            charges[info.id] = dict(
                match_key=info.id,
                id=info.id,
                balance_transaction=info.balance_transaction_id,
                currency=info.currency,
                gross=info.amount,
                fee=info.fee,
                net=info.net,
            )
    return StripeSide(transfers, transactions, charges)


# --- the service ------------------------------------------------------------------------------


@dataclass
class LedgerSide:
    payouts: list[dict[str, Any]]
    sales: list[dict[str, Any]]
    cash: list[dict[str, Any]]


def read_ledger_side(session: Session, period: Period, stripe: StripeSide | None = None) -> LedgerSide:
    """The ledger's side; given Stripe's, also the entries Stripe's objects point at."""
    keys = (
        [t.metadata["ledger_key"] for t in stripe.transfers.values() if t.metadata.get("ledger_key")] if stripe else []
    )
    payouts = payout_rows(session, period, extra_keys=keys)
    sales = sale_rows(session, period)
    if stripe is not None:
        known = {s["charge"] for s in sales}
        nearby = [
            s
            for s in sale_rows(session, period, window=SALE_WINDOW)
            if s["charge"] in stripe.charges and s["charge"] not in known
        ]
        sales += nearby
    return LedgerSide(payouts, sales, cash_movements(session, period))


def match_sides(period: Period, ledger: LedgerSide, stripe: StripeSide) -> Reconciliation:
    """The pure step: both sides' rows → the three matched sections."""
    wanted_charges = {s["charge"] for s in ledger.sales if s.get("charge")}
    in_range = {t.source for t in stripe.balance_transactions if t.type == "charge"}
    charges = [row for cid, row in stripe.charges.items() if cid in wanted_charges or cid in in_range]
    return Reconciliation(
        period,
        {
            "transfers": transfers_frame(
                side_frame(ledger.payouts, TRANSFER_LEDGER),
                side_frame([transfer_row(t) for t in stripe.transfers.values()], TRANSFER_STRIPE),
            ),
            "sales": sales_frame(side_frame(ledger.sales, SALE_LEDGER), side_frame(charges, SALE_STRIPE)),
            "balance": balance_frame(
                side_frame(ledger.cash, ("type", "currency", "net")),
                side_frame(
                    [dict(type=t.type, currency=t.currency, net=t.net) for t in stripe.balance_transactions],
                    ("type", "currency", "net"),
                ),
            ),
        },
    )


def gather(session: Session, gateway: PaymentGateway, period: Period) -> tuple[LedgerSide, StripeSide]:
    first = read_ledger_side(session, period)
    stripe = fetch_stripe_side(gateway, period, first.payouts, first.sales)
    return read_ledger_side(session, period, stripe), stripe


def reconcile_period(session: Session, gateway: PaymentGateway, period: Period) -> Reconciliation:
    ledger, stripe = gather(session, gateway, period)
    return match_sides(period, ledger, stripe)


def reconcile(uow: UnitOfWork, actor: Actor, gateway: PaymentGateway, period: str | Period) -> Reconciliation:
    """The service: accountants and admins (and the system, for the CLI) reconcile a period."""
    actor.require_role(*STAFF_ROLES)
    period = parse_period(period) if isinstance(period, str) else period
    try:
        return reconcile_period(uow.session, gateway, period)
    except PaymentError as exc:
        raise provider_problem(exc) from exc
