"""Reporting derivative uses: check each against its licence, price it, record it,
post it to the ledger and sign a receipt — all in ONE transaction.

Concurrency: the licences of a batch are locked in id order before anything is
counted — capped ones ``FOR UPDATE``, so two batches against one capped licence
cannot both pass the cap; uncapped ones ``FOR SHARE``, so reporters run side by side
while a revocation waits for them (see ``store``).  The unique (brand organisation,
event id) constraint is the last word: rows are inserted in event id order with ``ON
CONFLICT DO NOTHING`` (a concurrent resend waits for the first insert to commit or
roll back), and a row that lost the race is answered ``duplicate`` with the winner's
receipt.

On SQLite the transaction is ``BEGIN IMMEDIATE`` (one writer), which gives the same
guarantees.

An event id names one use: sent again with the same content (licence, kind, quantity,
time, territory, media, content hash and URL) it is a ``duplicate`` and gets the
original receipt; sent again with other content it is rejected with the reason
``event_id_conflict`` and nothing is recorded — a use is never hidden behind another's
receipt.  In a batch only that event is rejected.

Advances: a licence with an advance (a minimum guarantee the brand paid with its fee)
recoups it first — the entry debits ``brand:Y:advance`` for what is left of the
licence's advance and only the rest of the price is billed to the brand's receivable
(``app.books.advances``); such licences are locked ``FOR UPDATE``, like capped ones.

Ledger: the uses of one licence in one report are ONE ``usage.royalty`` entry.  Each
use is split on its own (``app.books.recipes.derivative_uses``), so a use is worth the
same to the brand, each co-owner and the platform whether it came alone or among a
thousand; the entry posts the sums and says how many uses it holds (``uses``,
``quantity``) and the Merkle root their receipts hang from (``receipts_root``), which
anchors every receipt in the ledger's hash chain.  Every use row names its entry
(``ledger_key``).  The entry's key is ``usage:<brand>:<event id>`` for a single use,
and for several a digest of the group's sorted event ids (``entry_key``): two reports
that race on the same events insert them in the same order, so one of them records
them all and the other none, and no two entries can claim one key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlmodel import col, select

from app.books.advances import unrecouped
from app.books.chart import open_accounts_for
from app.books.recipes import Owner, derivative_uses
from app.db import UnitOfWork, id_of
from app.errors import NotFound
from app.marketplace.cameos import owner_ids
from app.marketplace.models import Licence
from app.paging import Page, paginate
from app.people.actors import Actor
from ledger import EntryDraft, Ledger
from ledger.canonical import iso_utc

from . import receipts, store
from .models import UsageEvent
from .schemas import UsageEventIn
from .store import ReceiptRef, Recorded, Terms, UsageRef

RejectReason = Literal[
    "not_your_licence",
    "licence_not_active",
    "outside_term",
    "territory_not_licensed",
    "media_not_licensed",
    "usage_cap_exceeded",
    "licence_revoked",
    "unknown_licence",
    "invalid",
    "event_id_conflict",
]
REASONS: tuple[str, ...] = get_args(RejectReason)
CLOCK_SKEW = timedelta(minutes=5)
MAX_PRICE = 10**13
MAX_KEY = 200  # ledger idempotency keys are at most 200 characters


@dataclass
class Outcome:
    index: int
    event_id: str
    status: str  # accepted | duplicate | rejected
    reason: str | None = None
    detail: str | None = None
    usage: UsageRef | None = None
    receipt: ReceiptRef | None = None


@dataclass
class _Pending:
    index: int
    event: UsageEventIn
    licence: Terms
    price: int
    key: str | None = None  # the idempotency key of its licence's entry (priced uses only)
    usage_id: int = 0
    receipt: ReceiptRef | None = None


def content_of(event: UsageEventIn) -> tuple[object, ...]:
    return store.content(
        event.licence_id,
        event.kind,
        event.quantity,
        event.occurred_at,
        event.territory,
        event.media,
        event.content_sha256,
        event.content_url,
    )


def _repeat(i: int, event: UsageEventIn, before: Recorded) -> Outcome:
    """An event id seen before: a duplicate when it says the same, else a conflict."""
    if before.content != content_of(event):
        return _conflict(i, event, "was recorded before with other content")
    return Outcome(i, event.event_id, "duplicate", usage=before.usage, receipt=before.receipt)


def _conflict(i: int, event: UsageEventIn, what: str) -> Outcome:
    return Outcome(
        i,
        event.event_id,
        "rejected",
        "event_id_conflict",
        f"This event_id {what}: nothing was recorded. A new use needs a new event_id; "
        "a resent one must say exactly what it said the first time.",
    )


def entry_key(brand_org_id: int, event_ids: Sequence[str]) -> str:
    """The idempotency key of the entry for these uses of one licence in one report."""
    ordered = sorted(event_ids)
    if len(ordered) == 1 and len(key := f"usage:{brand_org_id}:{ordered[0]}") <= MAX_KEY:
        return key
    digest = hashlib.sha256("\n".join(ordered).encode()).hexdigest()[:32]  # event ids have no newlines
    # "#" cannot occur in an event id, so this key can never be a single use's key
    return f"usage:{brand_org_id}:{ordered[0][:100]}+{len(ordered) - 1}#{digest}"


def check_event(licence: Licence | Terms, event: UsageEventIn, now: datetime) -> tuple[str, str] | None:
    """Why ``event`` may not be recorded under ``licence`` (not counting the cap), or None."""
    if licence.status == "revoked":
        return "licence_revoked", "The licence has been revoked."
    if licence.status != "active":
        return "licence_not_active", f"The licence is {licence.status}, not active."
    if event.occurred_at > now + CLOCK_SKEW:
        return "invalid", "occurred_at is in the future."
    if not licence.term_start <= event.occurred_at < licence.ends_at:
        return "outside_term", (f"The licence covers {iso_utc(licence.term_start)} to {iso_utc(licence.ends_at)}.")
    if "WORLDWIDE" not in licence.territories and event.territory not in licence.territories:
        return "territory_not_licensed", f"Licensed territories: {', '.join(licence.territories)}."
    if event.media not in licence.media:
        return "media_not_licensed", f"Licensed media: {', '.join(licence.media)}."
    if not licence.owners:
        return "invalid", "The licence has no owners on record."
    price = licence.per_use_royalty_minor * event.quantity
    if price > MAX_PRICE:
        return "invalid", "The price of this use is out of range."
    return None


def receipt_payload(
    receipt_id: str, event: UsageEventIn, licence: Licence | Terms, price: int, issued_at: datetime
) -> dict[str, Any]:
    """What a receipt says.  The use's row id is not in it: receipts are signed before
    the row is written (the row carries its receipt); (brand, event id) names the use."""
    return {
        "typ": "cameo-exchange/usage-receipt",
        "receipt_id": receipt_id,
        "licence_id": licence.id,
        "licence_contract_sha256": licence.contract_sha256,
        "brand_org_id": licence.brand_org_id,
        "cameo_id": licence.cameo_id,
        "event_id": event.event_id,
        "kind": event.kind,
        "quantity": event.quantity,
        "territory": event.territory,
        "media": event.media,
        "price_minor": price,
        "currency": licence.currency,
        "occurred_at": iso_utc(event.occurred_at),
        "content": {"sha256": event.content_sha256, "url": event.content_url},
        "issued_at": iso_utc(issued_at),
    }


def report_usage(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    events: Sequence[UsageEventIn],
    *,
    ledger: Ledger,
    keys: receipts.KeyStore,
) -> list[Outcome]:
    """Record what may be recorded, answer every event; the caller commits.

    Statements for a batch on one licence without a cap: lock the licence, insert the
    uses, insert the receipts, post the entries (see ``Ledger.post_batch``).  What was
    recorded before is looked up only where the answer depends on it — events that
    would be rejected (a resent use stays a ``duplicate``) and uses of capped licences
    (a resend must not count twice) — everywhere else the unique constraint answers.
    """
    conn = uow.session.connection()
    outcomes: list[Outcome | None] = [None] * len(events)
    licences = store.lock_licences(conn, sorted({e.licence_id for e in events}))

    def reject(i: int, reason: str, detail: str) -> None:
        outcomes[i] = Outcome(i, events[i].event_id, "rejected", reason, detail)

    mine: list[tuple[int, Terms, tuple[str, str] | None]] = []  # (index, licence, problem)
    for i, event in enumerate(events):
        licence = licences.get(event.licence_id)
        if licence is None:
            reject(i, "unknown_licence", "No such licence.")
        elif licence.brand_org_id not in actor.org_ids:
            reject(i, "not_your_licence", "This licence belongs to another brand.")
        else:
            mine.append((i, licence, check_event(licence, event, now)))

    lookups: dict[int, set[str]] = {}
    for i, licence, problem in mine:
        if problem is not None or licence.usage_cap is not None:
            lookups.setdefault(licence.brand_org_id, set()).add(events[i].event_id)
    seen = {
        (org_id, event_id): found
        for org_id, event_ids in lookups.items()
        for event_id, found in store.recorded(conn, org_id, event_ids).items()
    }
    capped = sorted({licence.id for _, licence, problem in mine if problem is None and licence.usage_cap is not None})
    used = store.used(conn, capped) if capped else {}

    pending: list[_Pending] = []
    first_of: dict[tuple[int, str], int] = {}  # the first event of the batch with each id
    for i, licence, problem in mine:
        event = events[i]
        key = (licence.brand_org_id, event.event_id)
        if key in seen:
            outcomes[i] = _repeat(i, event, seen[key])
            continue
        if key in first_of:
            earlier = first_of[key]
            if content_of(events[earlier]) != content_of(event):
                outcomes[i] = _conflict(i, event, f"is used by events[{earlier}] with other content")
            else:
                outcomes[i] = Outcome(i, event.event_id, "duplicate", detail=f"same event_id as events[{earlier}]")
            continue
        first_of[key] = i
        if problem is None and licence.usage_cap is not None:
            if used[licence.id] + event.quantity > licence.usage_cap:
                problem = (
                    "usage_cap_exceeded",
                    f"The licence allows {licence.usage_cap} uses; {used[licence.id]} are recorded.",
                )
            else:
                used[licence.id] += event.quantity
        if problem is not None:
            reject(i, *problem)
            continue
        pending.append(_Pending(i, event, licence, licence.per_use_royalty_minor * event.quantity))

    _record(conn, actor, now, pending, outcomes, ledger=ledger, keys=keys, session=uow.session)
    # in-batch repeats answer as the first occurrence did (its usage and receipt, or its refusal)
    for i, outcome in enumerate(outcomes):
        if outcome is not None and outcome.status == "duplicate" and outcome.usage is None:
            first = outcomes[first_of[(licences[events[i].licence_id].brand_org_id, events[i].event_id)]]
            if first is None:
                raise LookupError(f"event {events[i].event_id}: its first occurrence in the report has no outcome")
            if first.status == "rejected":
                outcomes[i] = Outcome(i, events[i].event_id, "rejected", first.reason, first.detail)
            else:
                outcome.usage, outcome.receipt = first.usage, first.receipt
    return [o for o in outcomes if o is not None]


def _record(
    conn,
    actor: Actor,
    now: datetime,
    pending: list[_Pending],
    outcomes: list,
    *,
    ledger: Ledger,
    keys: receipts.KeyStore,
    session,
) -> None:
    if not pending:
        return
    # the receipts are signed first (one signature for the report): each goes into its use's row
    receipt_ids = ["rcpt_" + secrets.token_hex(12) for _ in pending]
    kid, tokens, root = receipts.sign_batch(
        keys,
        [receipt_payload(rid, p.event, p.licence, p.price, now) for rid, p in zip(receipt_ids, pending, strict=True)],
        now=now,
    )
    refs = [ReceiptRef(receipt_id, token) for receipt_id, token in zip(receipt_ids, tokens, strict=True)]
    groups: dict[int, list[_Pending]] = {}
    for p, ref in zip(pending, refs, strict=True):
        p.receipt = ref
        if p.price:
            groups.setdefault(p.licence.id, []).append(p)
    for group in groups.values():
        key = entry_key(group[0].licence.brand_org_id, [p.event.event_id for p in group])
        for p in group:
            p.key = key
    rows = []
    for p, ref in zip(pending, refs, strict=True):
        e = p.event
        rows.append(
            (
                p.licence.brand_org_id,
                e.event_id,
                p.licence.id,
                actor.user_id,
                e.kind,
                e.quantity,
                e.occurred_at,
                e.territory,
                e.media,
                e.content_sha256,
                e.content_url,
                p.price,
                p.licence.currency,
                p.key,
                now,
                ref.id,
                kid,
                ref.token,
            )
        )
    inserted = store.insert_usage(conn, rows)

    # events that lost a race with a concurrent request are that request's duplicates
    won: list[_Pending] = []
    lost: dict[int, list[_Pending]] = {}
    for p in pending:
        usage_id = inserted.get((p.licence.brand_org_id, p.event.event_id))
        if usage_id is None:
            lost.setdefault(p.licence.brand_org_id, []).append(p)
        else:
            p.usage_id = usage_id
            won.append(p)
            outcomes[p.index] = Outcome(
                p.index,
                p.event.event_id,
                "accepted",
                usage=UsageRef(usage_id, p.price, p.licence.currency),
                receipt=p.receipt,
            )
    for org_id, losers in lost.items():
        found = store.recorded(conn, org_id, (p.event.event_id for p in losers))
        for p in losers:
            outcomes[p.index] = _repeat(p.index, p.event, found[p.event.event_id])

    # post last: the brand's and creators' balance rows stay locked from their UPDATE to the commit
    drafts = _drafts(now, [p for p in won if p.price], root, _advances_left(conn, won))
    if drafts:
        open_accounts_for(ledger, session, drafts)
        ledger.post_batch(session, drafts, now=now)


def _advances_left(conn, won: list[_Pending]) -> dict[int, int]:
    """What is left of the advance of each licence with one (locked ``FOR UPDATE``)."""
    left: dict[int, int] = {}
    by_brand: dict[tuple[int, str], set[int]] = {}
    for p in won:
        if p.licence.advance_minor > 0:
            by_brand.setdefault((p.licence.brand_org_id, p.licence.currency), set()).add(p.licence.id)
    for (brand_id, currency), licence_ids in by_brand.items():
        left.update(unrecouped(conn, brand_id, currency, licence_ids))
    return left


def _drafts(
    now: datetime, priced: list[_Pending], receipts_root: str, advances_left: dict[int, int]
) -> list[EntryDraft]:
    """One ``usage.royalty`` entry per licence: its uses, each split on its own, summed,
    recouping what is left of the licence's advance first."""
    groups: dict[str, list[_Pending]] = {}
    for p in priced:
        if p.key is None:  # _record gives every priced use its entry's key
            raise ValueError(f"event {p.event.event_id} is priced but has no entry key")
        groups.setdefault(p.key, []).append(p)
    drafts = []
    for key, group in groups.items():
        licence, first = group[0].licence, group[0].event
        if len(group) == 1:
            memo = f"{first.kind} x{first.quantity} under licence {licence.id}"
            detail = {
                "usage_event_id": group[0].usage_id,
                "event_id": first.event_id,
                "occurred_at": iso_utc(first.occurred_at),
            }
        else:
            memo = f"{len(group)} uses under licence {licence.id}"
            detail = {"first_event_id": first.event_id}
        price = sum(p.price for p in group)
        recouped = min(max(advances_left.get(licence.id, 0), 0), price)
        if recouped:
            advances_left[licence.id] -= recouped
            detail["recouped_from_advance"] = recouped
        drafts.append(
            derivative_uses(
                key=key,
                effective_at=now,
                currency=licence.currency,
                prices=Counter(p.price for p in group),
                commission_bps=licence.commission_bps,
                brand_id=licence.brand_org_id,
                owners=[Owner(int(o["user_id"]), int(o["share_bps"])) for o in licence.owners],
                from_advance=recouped,
                memo=memo,
                meta={
                    "licence_id": licence.id,
                    "uses": len(group),
                    "quantity": sum(p.event.quantity for p in group),
                    **detail,
                    "receipts_root": receipts_root,
                },
            )
        )
    return drafts


# --- reading --------------------------------------------------------------------------


def readable_licence(uow: UnitOfWork, actor: Actor, licence_id: int) -> Licence:
    """The licence, if ``actor`` is of its brand or one of its creators; nobody else sees its usage."""
    licence = uow.session.get(Licence, licence_id)
    if licence is None or not (
        licence.brand_org_id in actor.org_ids
        or actor.user_id in {int(o["user_id"]) for o in licence.owners or []}
        or actor.user_id in owner_ids(uow, licence.cameo_id)
    ):
        raise NotFound("No such licence.")
    return licence


def list_usage(uow: UnitOfWork, actor: Actor, licence_id: int, *, cursor: str | None, limit: int) -> Page:
    readable_licence(uow, actor, licence_id)
    return paginate(
        uow, select(UsageEvent).where(UsageEvent.licence_id == licence_id), UsageEvent.id, cursor=cursor, limit=limit
    )


def iter_usage(uow: UnitOfWork, actor: Actor, licence_id: int, *, chunk: int = 1000) -> Iterator[UsageEvent]:
    readable_licence(uow, actor, licence_id)
    last = 0
    while True:
        rows = uow.session.exec(
            select(UsageEvent)
            .where(UsageEvent.licence_id == licence_id, col(UsageEvent.id) > last)
            .order_by(col(UsageEvent.id))
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last = id_of(rows[-1])
