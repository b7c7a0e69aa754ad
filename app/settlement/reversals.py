"""Transfers reversed after they were made: the ``transfer.reversed`` / ``transfer.updated`` webhooks.

The event carries the transfer with its cumulative ``amount_reversed``.  The item
keeps how much of it the ledger has already taken back (``reversed_amount``), so an
event applies only the difference — duplicates and out-of-order deliveries of the
same reversal change nothing:

* the whole transfer reversed at once → ``Ledger.reverse`` of the payout entry
  (kind ``reversal``), item ``reversed``;
* a part → a compensating entry for that part (kind ``payout.reversal``, key
  ``<payout key>:reversed:<cumulative amount>``), item ``partially_reversed`` until the
  whole is back.

Either way the amount is the creator's payable again, for the next run to pay.  The
entries are effective when Stripe reversed the transfer (the event's date; booked at the
first open moment when that month is closed already), carry the payout's key
(``meta.payout_key``) and belong to the month they are effective in, not to the period
the payout settled: the money comes back when it comes back.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.books import recipes
from app.db import UnitOfWork, get_existing, id_of
from app.payments.events import EventContext, WebhookHandlers
from app.payments.gateway import WebhookEvent

from .models import SettlementItem, SettlementRun
from .service import payout_key

log = logging.getLogger(__name__)


def _find_item(uow: UnitOfWork, transfer: dict) -> SettlementItem | None:
    item = uow.session.scalars(
        select(SettlementItem).where(SettlementItem.transfer_id == transfer["id"]).with_for_update()
    ).first()
    if item is not None:
        return item
    metadata = transfer.get("metadata") or {}
    try:  # the transfer's answer may have been lost before the run recorded it
        item_id = int(metadata["item_id"])
    except (KeyError, TypeError, ValueError):
        return None
    item = uow.session.get(SettlementItem, item_id, with_for_update=True)
    if item is None or metadata.get("ledger_key") != payout_key(id_of(item), item.attempt):
        return None
    return item


def apply_transfer_reversal(
    uow: UnitOfWork, ctx: EventContext, transfer: dict, effective_at: datetime | None = None
) -> SettlementItem | None:
    """Bring the item of ``transfer`` (a Stripe transfer object) in line with its ``amount_reversed``."""
    effective_at = effective_at or ctx.now
    reversed_total = int(transfer.get("amount_reversed") or 0)
    if reversed_total <= 0:
        return None
    item = _find_item(uow, transfer)
    if item is None:
        return None  # not a settlement payout
    if item.entry_seq is None or item.status not in ("posted", "paid", "partially_reversed"):
        return item  # nothing of it is in the ledger as paid (already reversed or failed)
    reversed_total = min(reversed_total, item.amount)
    delta = reversed_total - item.reversed_amount
    if delta <= 0:
        return item
    run = get_existing(uow.session, SettlementRun, item.run_id)
    key = payout_key(id_of(item), item.attempt)
    meta = {
        "period": run.period,
        "item_id": item.id,
        "creator_id": item.creator_id,
        "transfer_id": transfer["id"],
        "transfer_group": run.transfer_group,
        "payout_key": key,
    }
    if item.reversed_amount == 0 and reversed_total == item.amount:
        original = ctx.ledger.entry(uow.session, item.entry_seq)
        if original is None:  # the item names a payout entry: the database makes it exist
            raise LookupError(f"payout entry {item.entry_seq} of item {item.id} is missing")
        entry = ctx.post(
            uow,
            recipes.reversal(
                original,
                idempotency_key=f"{key}:reversed",
                effective_at=effective_at,
                memo=f"transfer {transfer['id']} reversed: back to the payable",
                meta=meta,
            ),
        )
    else:
        entry = ctx.post(
            uow,
            recipes.payout_partly_reversed(
                key=f"{key}:reversed:{reversed_total}",
                effective_at=effective_at,
                currency=item.currency,
                amount=delta,
                creator_id=item.creator_id,
                memo=f"transfer {transfer['id']} partly reversed: {delta} back to the payable",
                meta={**meta, "amount_reversed": reversed_total},
            ),
        )
    item.transfer_id = item.transfer_id or transfer["id"]
    item.reversed_amount, item.reversal_seq, item.updated_at = reversed_total, entry.seq, ctx.now
    item.status = "reversed" if reversed_total == item.amount else "partially_reversed"
    uow.session.flush()
    log.info("settlement item %s: transfer %s reversed %d of %d", item.id, transfer["id"], reversed_total, item.amount)
    return item


def on_transfer_event(uow: UnitOfWork, event: WebhookEvent, ctx: EventContext) -> None:
    if event.data_object.get("object") == "transfer":
        apply_transfer_reversal(uow, ctx, dict(event.data_object), event.created)


def register_handlers(handlers: WebhookHandlers) -> None:
    for event_type in ("transfer.reversed", "transfer.updated"):
        handlers.register(event_type, on_transfer_event)
