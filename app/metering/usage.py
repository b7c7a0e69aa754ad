"""Reporting derivative uses: check each against its licence, price it, record it,
post it to the ledger and sign a receipt — all in ONE transaction.

Concurrency: the licences of a batch are locked (``FOR UPDATE``, in id order) before
anything is counted, so two batches against one capped licence cannot both pass the
cap, and a concurrent resend of the same event waits and then sees the first.  The
unique (brand organisation, event id) constraint is the last word: rows are inserted
with ``ON CONFLICT DO NOTHING`` and a row that lost the race is answered
``duplicate`` with the winner's receipt.  The ledger entry's idempotency key is
``usage:<brand_org_id>:<event_id>``.  On SQLite the transaction is ``BEGIN
IMMEDIATE`` (one writer), which gives the same guarantees.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from app.db import UnitOfWork
from app.errors import NotFound
from app.marketplace.actors import Actor
from app.marketplace.models import Licence
from app.marketplace.pagination import Page, paginate
from ledger import Ledger
from ledger.canonical import iso_utc
from ledger.chart import open_accounts_for
from ledger.recipes import Owner, derivative_use

from . import receipts
from .models import Receipt, UsageEvent
from .schemas import UsageEventIn

REASONS = ("not_your_licence", "licence_not_active", "outside_term", "territory_not_licensed", "media_not_licensed",
           "usage_cap_exceeded", "licence_revoked", "unknown_licence", "invalid")
CLOCK_SKEW = timedelta(minutes=5)
MAX_PRICE = 10**13


@dataclass
class Outcome:
    index: int
    event_id: str
    status: str  # accepted | duplicate | rejected
    reason: str | None = None
    detail: str | None = None
    usage: UsageEvent | None = None
    receipt: Receipt | None = None


@dataclass
class _Pending:
    index: int
    event: UsageEventIn
    licence: Licence
    price: int
    row: dict[str, Any] = field(default_factory=dict)


def ledger_key(brand_org_id: int, event_id: str) -> str:
    return f"usage:{brand_org_id}:{event_id}"


def _insert(session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(UsageEvent.__table__)
    if name == "sqlite":
        return sqlite.insert(UsageEvent.__table__)
    raise NotImplementedError(name)  # pragma: no cover


def _chunks(items: Sequence, size: int = 500) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _existing(uow: UnitOfWork, org_id: int, event_ids: Iterable[str]) -> dict[str, tuple[UsageEvent, Receipt | None]]:
    found: dict[str, tuple[UsageEvent, Receipt | None]] = {}
    for chunk in _chunks(sorted(set(event_ids))):
        rows = uow.session.exec(
            select(UsageEvent, Receipt).join(Receipt, Receipt.usage_event_id == UsageEvent.id, isouter=True)
            .where(UsageEvent.brand_org_id == org_id, UsageEvent.event_id.in_(chunk))).all()
        found.update({usage.event_id: (usage, receipt) for usage, receipt in rows})
    return found


def _used(uow: UnitOfWork, licence_id: int) -> int:
    return int(uow.session.exec(select(func.coalesce(func.sum(UsageEvent.quantity), 0))
                                .where(UsageEvent.licence_id == licence_id)).one())


def check_event(licence: Licence, event: UsageEventIn, now: datetime) -> tuple[str, str] | None:
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
    return None


def receipt_payload(receipt_id: str, usage: UsageEvent, licence: Licence, issued_at: datetime) -> dict[str, Any]:
    return {
        "typ": "cameo-exchange/usage-receipt",
        "receipt_id": receipt_id,
        "usage_id": usage.id,
        "licence_id": licence.id,
        "licence_contract_sha256": licence.contract_sha256,
        "brand_org_id": usage.brand_org_id,
        "cameo_id": licence.cameo_id,
        "event_id": usage.event_id,
        "kind": usage.kind,
        "quantity": usage.quantity,
        "territory": usage.territory,
        "media": usage.media,
        "price_minor": usage.price_minor,
        "currency": usage.currency,
        "occurred_at": iso_utc(usage.occurred_at),
        "content": {"sha256": usage.content_sha256, "url": usage.content_url},
        "issued_at": iso_utc(issued_at),
    }


def report_usage(uow: UnitOfWork, actor: Actor, now: datetime, events: Sequence[UsageEventIn], *,
                 ledger: Ledger, keys: receipts.KeyStore) -> list[Outcome]:
    """Record what may be recorded, answer every event; the caller commits."""
    session = uow.session
    outcomes: list[Outcome | None] = [None] * len(events)
    licence_ids = sorted({e.licence_id for e in events})
    licences = {lic.id: lic for lic in session.exec(
        select(Licence).where(Licence.id.in_(licence_ids)).order_by(Licence.id)
        .with_for_update().execution_options(populate_existing=True))}

    def reject(i: int, reason: str, detail: str) -> None:
        outcomes[i] = Outcome(i, events[i].event_id, "rejected", reason, detail)

    # who may report against which licence, then which events were seen before
    by_org: dict[int, list[int]] = {}
    for i, event in enumerate(events):
        licence = licences.get(event.licence_id)
        if licence is None:
            reject(i, "unknown_licence", "No such licence.")
        elif licence.brand_org_id not in actor.org_ids:
            reject(i, "not_your_licence", "This licence belongs to another brand.")
        else:
            by_org.setdefault(licence.brand_org_id, []).append(i)
    seen: dict[tuple[int, str], tuple[UsageEvent, Receipt | None]] = {}
    for org_id, indices in by_org.items():
        for event_id, found in _existing(uow, org_id, (events[i].event_id for i in indices)).items():
            seen[(org_id, event_id)] = found

    used: dict[int, int] = {}
    pending: list[_Pending] = []
    claimed: dict[tuple[int, str], int] = {}
    for org_id, indices in by_org.items():
        for i in indices:
            event, licence = events[i], licences[events[i].licence_id]
            key = (org_id, event.event_id)
            if key in seen:
                usage, receipt = seen[key]
                outcomes[i] = Outcome(i, event.event_id, "duplicate", usage=usage, receipt=receipt)
                continue
            if key in claimed:
                outcomes[i] = Outcome(i, event.event_id, "duplicate", detail=f"same event_id as events[{claimed[key]}]")
                continue
            problem = check_event(licence, event, now)
            price = licence.per_use_royalty_minor * event.quantity
            if problem is None and price > MAX_PRICE:
                problem = ("invalid", "The price of this use is out of range.")
            if problem is None and licence.usage_cap is not None:
                if licence.id not in used:
                    used[licence.id] = _used(uow, licence.id)
                if used[licence.id] + event.quantity > licence.usage_cap:
                    problem = ("usage_cap_exceeded", f"The licence allows {licence.usage_cap} uses; "
                               f"{used[licence.id]} are recorded.")
                else:
                    used[licence.id] += event.quantity
            if problem is not None:
                reject(i, *problem)
                continue
            claimed[key] = i
            pending.append(_Pending(i, event, licence, price))

    _record(uow, actor, now, pending, outcomes, ledger=ledger, keys=keys)
    # in-batch repeats answer with the first occurrence's usage and receipt
    for i, outcome in enumerate(outcomes):
        if outcome is not None and outcome.status == "duplicate" and outcome.usage is None:
            first = outcomes[claimed[(licences[events[i].licence_id].brand_org_id, events[i].event_id)]]
            outcome.usage, outcome.receipt = first.usage, first.receipt
            if first.status == "rejected":  # pragma: no cover — a claimed event is never rejected
                outcomes[i] = Outcome(i, events[i].event_id, "rejected", first.reason, first.detail)
    return [o for o in outcomes if o is not None]


def _record(uow: UnitOfWork, actor: Actor, now: datetime, pending: list[_Pending], outcomes: list,
            *, ledger: Ledger, keys: receipts.KeyStore) -> None:
    if not pending:
        return
    session = uow.session
    for p in pending:
        e = p.event
        p.row = dict(brand_org_id=p.licence.brand_org_id, event_id=e.event_id, licence_id=p.licence.id,
                     reported_by=actor.user_id, kind=e.kind, quantity=e.quantity, occurred_at=e.occurred_at,
                     territory=e.territory, media=e.media, content_sha256=e.content_sha256,
                     content_url=e.content_url, price_minor=p.price, currency=p.licence.currency,
                     ledger_key=ledger_key(p.licence.brand_org_id, e.event_id) if p.price else None,
                     recorded_at=now)
    inserted: dict[tuple[int, str], int] = {}
    table = UsageEvent.__table__
    for chunk in _chunks(pending):
        stmt = _insert(session).on_conflict_do_nothing(index_elements=["brand_org_id", "event_id"]).returning(
            table.c.id, table.c.brand_org_id, table.c.event_id)
        for row in session.execute(stmt, [p.row for p in chunk]):
            inserted[(row.brand_org_id, row.event_id)] = row.id

    # events that lost a race with a concurrent request are that request's duplicates
    lost = [p for p in pending if (p.licence.brand_org_id, p.event.event_id) not in inserted]
    for org_id in {p.licence.brand_org_id for p in lost}:
        found = _existing(uow, org_id, (p.event.event_id for p in lost if p.licence.brand_org_id == org_id))
        for p in lost:
            if p.licence.brand_org_id == org_id:
                usage, receipt = found[p.event.event_id]
                outcomes[p.index] = Outcome(p.index, p.event.event_id, "duplicate", usage=usage, receipt=receipt)
    won = [p for p in pending if (p.licence.brand_org_id, p.event.event_id) in inserted]

    drafts = [derivative_use(
        key=p.row["ledger_key"], effective_at=now, currency=p.licence.currency, price=p.price,
        commission_bps=p.licence.commission_bps, brand_id=p.licence.brand_org_id,
        owners=[Owner(int(o["user_id"]), int(o["share_bps"])) for o in p.licence.owners],
        memo=f"{p.event.kind} x{p.event.quantity} under licence {p.licence.id}",
        meta={"usage_event_id": inserted[(p.licence.brand_org_id, p.event.event_id)], "licence_id": p.licence.id,
              "event_id": p.event.event_id, "occurred_at": iso_utc(p.event.occurred_at)},
    ) for p in won if p.price]
    if drafts:
        open_accounts_for(ledger, session, drafts)
        ledger.post_batch(session, drafts, now=now)

    receipt_rows = []
    for p in won:
        usage = UsageEvent(id=inserted[(p.licence.brand_org_id, p.event.event_id)], **p.row)
        receipt_id = "rcpt_" + secrets.token_hex(12)
        kid, token = receipts.sign(keys, receipt_payload(receipt_id, usage, p.licence, now), now=now)
        receipt = Receipt(id=receipt_id, usage_event_id=usage.id, key_id=kid, token=token, issued_at=now)
        receipt_rows.append(receipt.model_dump())
        outcomes[p.index] = Outcome(p.index, p.event.event_id, "accepted", usage=usage, receipt=receipt)
    for chunk in _chunks(receipt_rows):
        session.execute(insert(Receipt.__table__), list(chunk))


# --- reading --------------------------------------------------------------------------

def readable_licence(uow: UnitOfWork, actor: Actor, licence_id: int) -> Licence:
    """The licence, if ``actor`` is of its brand or one of its creators; nobody else sees its usage."""
    from app.marketplace.cameos import owner_ids

    licence = uow.session.get(Licence, licence_id)
    if licence is None or not (licence.brand_org_id in actor.org_ids
                               or actor.user_id in {int(o["user_id"]) for o in licence.owners or []}
                               or actor.user_id in owner_ids(uow, licence.cameo_id)):
        raise NotFound("No such licence.")
    return licence


def list_usage(uow: UnitOfWork, actor: Actor, licence_id: int, *, cursor: str | None, limit: int) -> Page:
    readable_licence(uow, actor, licence_id)
    page = paginate(uow, select(UsageEvent).where(UsageEvent.licence_id == licence_id), UsageEvent.id,
                    cursor=cursor, limit=limit)
    found = {r.usage_event_id: r for r in uow.session.exec(
        select(Receipt).where(Receipt.usage_event_id.in_([u.id for u in page.items])))} if page.items else {}
    page.items = [(usage, found.get(usage.id)) for usage in page.items]
    return page


def iter_usage(uow: UnitOfWork, actor: Actor, licence_id: int, *, chunk: int = 1000
               ) -> Iterator[tuple[UsageEvent, Receipt | None]]:
    readable_licence(uow, actor, licence_id)
    last = 0
    while True:
        rows = uow.session.exec(
            select(UsageEvent, Receipt).join(Receipt, Receipt.usage_event_id == UsageEvent.id, isouter=True)
            .where(UsageEvent.licence_id == licence_id, UsageEvent.id > last).order_by(UsageEvent.id).limit(chunk)).all()
        if not rows:
            return
        yield from ((u, r) for u, r in rows)
        last = rows[-1][0].id
