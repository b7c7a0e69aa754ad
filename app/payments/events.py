"""The Stripe webhook inbox: store each verified event once, process it idempotently.

1. ``store_event`` inserts the event by its Stripe id (``INSERT … ON CONFLICT DO
   NOTHING``) and commits — before any processing, so a processing failure never
   loses an event;
2. ``process_event`` applies it in a unit of work of its own, through the handlers
   registered for its type (``WebhookHandlers``: one per app, filled by each feature's
   ``init_app``); the event row is locked, and
   ``processed_at`` is set in the same transaction as the handler's changes, so an
   event is applied at most once even when two deliveries race;
3. a handler that cannot apply its event yet (e.g. a refund of a payment not yet
   recorded) raises ``EventNotReady``; like any failure this rolls its changes back,
   counts an attempt and keeps the error in ``last_error``; ``retry_pending`` (the
   ``cameo payments retry-events`` command and the scheduler's ``payments-retry``
   job) tries again.

Handlers re-fetch current state from Stripe through the gateway wherever delivery
order matters, and make their own writes idempotent (ledger idempotency keys,
unique rows), so a replay after a crash between their write and the commit is safe.

Late money: an event's own date may fall in a month the accountants have closed since
(a payment completed at 23:59 on the last day, delivered after the close; a retried
event).  ``EventContext.post`` books it at the first open moment with its own date in
the entry's metadata (``ledger.periods.booked_when_open``), so it is applied — the
licence is activated, the refund taken back — instead of waiting forever, and shows as
a prior-period adjustment of the period it lands in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from app.books import chart
from app.db import Database, UnitOfWork, rowcount
from ledger import EntryDraft, Ledger, PostedEntry
from ledger.periods import booked_when_open

from .gateway import PaymentGateway, WebhookEvent
from .models import StripeEvent, stripe_event_table

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 2000


class EventNotReady(Exception):
    """The event cannot be applied yet (something it depends on has not arrived); retry later."""


@dataclass(frozen=True)
class EventContext:
    """What a handler may use besides its unit of work."""

    gateway: PaymentGateway
    ledger: Ledger
    now: datetime

    def post(self, uow: UnitOfWork, draft: EntryDraft) -> PostedEntry:
        """Post ``draft`` in the handler's unit of work, opening the accounts it needs; a
        draft dated in a closed period is booked at the first open moment (see above)."""
        draft = booked_when_open(uow.session, draft)
        chart.open_accounts_for(self.ledger, uow.session, [draft])
        return self.ledger.post(uow.session, draft, now=self.now)


Handler = Callable[[UnitOfWork, WebhookEvent, EventContext], None]


class WebhookHandlers:
    """Which functions process which Stripe event types: one registry per app (built by
    the composition root), filled by the features when the app is created."""

    def __init__(self) -> None:
        self._by_type: dict[str, list[Handler]] = {}

    def register(self, event_type: str, fn: Handler) -> Handler:
        """Have ``fn(uow, event, ctx)`` process every event of ``event_type`` (idempotently).
        Registering the same function twice is a no-op; several functions may share a type."""
        handlers = self._by_type.setdefault(event_type, [])
        if fn not in handlers:
            handlers.append(fn)
        return fn

    def register_payment(
        self, kind: str, id_field: str, record: Callable[[UnitOfWork, EventContext, int, str, datetime], Any]
    ) -> Handler:
        """Call ``record(uow, ctx, object_id, payment_intent_id, paid_at)`` for every succeeded
        payment whose metadata is ``{"kind": kind, id_field: "<object id>"}`` (whichever event
        reports it)."""
        handler = payment_handler(kind, id_field, record)
        for event_type in PAYMENT_SUCCEEDED_TYPES:
            self.register(event_type, handler)
        return handler

    def for_type(self, event_type: str) -> tuple[Handler, ...]:
        return tuple(self._by_type.get(event_type, ()))


def event_from_payload(payload: dict[str, Any]) -> WebhookEvent:
    data = payload["data"]
    created = datetime.fromtimestamp(int(payload["created"]), tz=UTC)
    return WebhookEvent(
        id=payload["id"],
        type=payload["type"],
        created=created,
        account=payload.get("account"),
        livemode=bool(payload.get("livemode")),
        data_object=data["object"],
        previous_attributes=data.get("previous_attributes"),
    )


PAYMENT_SUCCEEDED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
)


@dataclass(frozen=True)
class PaidIntent:
    payment_intent_id: str
    metadata: Any


def paid_intent(event: WebhookEvent) -> PaidIntent | None:
    """The succeeded payment an event of ``PAYMENT_SUCCEEDED_TYPES`` reports (None: not paid yet).
    Checkout copies its metadata onto the payment intent, so both kinds carry the caller's."""
    obj = event.data_object
    if event.type == "payment_intent.succeeded":
        return PaidIntent(obj["id"], obj.get("metadata") or {})
    intent = obj.get("payment_intent")
    intent_id = intent if isinstance(intent, str) else (intent or {}).get("id")
    if obj.get("payment_status") != "paid" or not intent_id:
        return None  # an asynchronous payment still on its way
    return PaidIntent(intent_id, obj.get("metadata") or {})


def payment_handler(
    kind: str, id_field: str, record: Callable[[UnitOfWork, EventContext, int, str, datetime], Any]
) -> Handler:
    """A handler of the succeeded payments whose metadata names ``kind`` and an ``id_field``."""

    def on_payment_succeeded(uow: UnitOfWork, event: WebhookEvent, ctx: EventContext) -> None:
        paid = paid_intent(event)
        if paid is None or paid.metadata.get("kind") != kind:
            return
        try:
            object_id = int(paid.metadata[id_field])
        except (KeyError, TypeError, ValueError):
            log.warning("Stripe event %s: %s payment without a valid %s", event.id, kind, id_field)
            return
        record(uow, ctx, object_id, paid.payment_intent_id, event.created)

    return on_payment_succeeded


def _insert(session):
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(stripe_event_table)


def store_event(db: Database, event: WebhookEvent, raw_payload: bytes, now: datetime) -> bool:
    """Record ``event`` once; True when it is new (a duplicate delivery returns False)."""
    payload = json.loads(raw_payload)
    with db.unit_of_work() as uow:
        statement = (
            _insert(uow.session)
            .values(
                id=event.id,
                type=event.type,
                account=event.account,
                created=event.created,
                payload=payload,
                received_at=now,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        inserted = rowcount(uow.session.execute(statement)) == 1
        uow.commit()
    return inserted


def is_processed(db: Database, event_id: str) -> bool:
    with db.unit_of_work() as uow:
        row = uow.session.get(StripeEvent, event_id)
        return row is not None and row.processed_at is not None


def process_event(db: Database, handlers: WebhookHandlers, event_id: str, ctx: EventContext) -> bool:
    """Apply one stored event; True when it is (now or already) processed."""
    failure: Exception | None = None
    with db.unit_of_work() as uow:
        row = uow.session.get(StripeEvent, event_id, with_for_update=True)
        if row is None:
            raise LookupError(f"no stored Stripe event {event_id}")
        if row.processed_at is not None:
            return True
        event = event_from_payload(row.payload)
        try:
            for handler in handlers.for_type(row.type):
                handler(uow, event, ctx)
        except Exception as exc:
            failure = exc
        else:
            row.processed_at = ctx.now
            row.attempts += 1
            row.last_error = None
            uow.commit()
            return True
    _record_failure(db, event_id, failure)
    return False


def _record_failure(db: Database, event_id: str, failure: Exception) -> None:
    if isinstance(failure, EventNotReady):
        log.info("Stripe event %s not applicable yet: %s", event_id, failure)
    else:
        log.error("Stripe event %s failed", event_id, exc_info=failure)
    with db.unit_of_work() as uow:
        row = uow.session.get(StripeEvent, event_id, with_for_update=True)
        if row is not None and row.processed_at is None:
            row.attempts += 1
            row.last_error = f"{type(failure).__name__}: {failure}"[:MAX_ERROR_CHARS]
            uow.commit()


# An event that still cannot be applied after this many attempts (about an hour and a
# half of scheduler retries) is parked: kept, listed, no longer retried automatically,
# so one poisoned event cannot grow the retry work forever.
MAX_AUTOMATIC_ATTEMPTS = 100


def pending_event_ids(db: Database, limit: int = 500, *, include_parked: bool = False) -> list[str]:
    with db.unit_of_work() as uow:
        query = select(col(StripeEvent.id)).where(col(StripeEvent.processed_at).is_(None))
        if not include_parked:
            query = query.where(col(StripeEvent.attempts) < MAX_AUTOMATIC_ATTEMPTS)
        query = query.order_by(col(StripeEvent.created), col(StripeEvent.id)).limit(limit)
        return list(uow.session.execute(query).scalars())


def parked_event_ids(db: Database, limit: int = 500) -> list[str]:
    """Unprocessed events that reached ``MAX_AUTOMATIC_ATTEMPTS``: they need a person."""
    with db.unit_of_work() as uow:
        query = (
            select(col(StripeEvent.id))
            .where(col(StripeEvent.processed_at).is_(None), col(StripeEvent.attempts) >= MAX_AUTOMATIC_ATTEMPTS)
            .order_by(col(StripeEvent.created), col(StripeEvent.id))
            .limit(limit)
        )
        return list(uow.session.execute(query).scalars())


@dataclass(frozen=True)
class RetryReport:
    processed: tuple[str, ...]
    pending: tuple[str, ...]
    parked: tuple[str, ...] = ()


def retry_pending(
    db: Database,
    handlers: WebhookHandlers,
    ctx_factory: Callable[[], EventContext],
    *,
    limit: int = 500,
    passes: int = 3,
    include_parked: bool = False,
) -> RetryReport:
    """Process unprocessed events oldest first; a few passes, so an event that waited for
    another one of the same batch is applied in the same run.  Parked events are retried
    only when asked (``include_parked``)."""
    processed: list[str] = []
    remaining = pending_event_ids(db, limit, include_parked=include_parked)
    for _ in range(passes):
        still = [eid for eid in remaining if not process_event(db, handlers, eid, ctx_factory())]
        processed += [eid for eid in remaining if eid not in still]
        if len(still) in (0, len(remaining)):
            remaining = still
            break
        remaining = still
    parked = set(parked_event_ids(db, limit))
    return RetryReport(tuple(processed), tuple(e for e in remaining if e not in parked), tuple(sorted(parked)))
