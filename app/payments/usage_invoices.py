"""Brand usage invoices (issue #5.3): a brand's metered usage for a period, paid through Checkout.

* ``invoice_brand_usage`` — sums what metering charged to ``brand:Y:receivable:CUR``
  in ``[period_start, period_end)`` (every posting to the account effective in the
  period except invoice payments, so reversed uses net out), stores a
  ``usage_invoice`` and opens a Checkout Session for it (idempotency key
  ``usage-invoice-checkout:<id>``).  One invoice per brand, currency and period
  start; periods of one brand and currency may not overlap.  Asking again for an open
  invoice with the same return addresses hands out its checkout again; with other
  ones it is a conflict (409, ``code: idempotency_conflict``), never a second session.
* the ``checkout.session.completed`` / ``payment_intent.succeeded`` webhook (metadata
  ``kind=usage_invoice``) re-fetches the charge and posts
  ``app.books.recipes.usage_invoice_paid`` once (key ``usage-invoice:<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from app.books import chart, recipes
from app.db import UnitOfWork, id_of
from app.errors import Conflict, NotFound, ValidationProblem
from app.people.models import Organisation
from ledger.models import Account, Entry, Posting

from .events import EventContext, WebhookHandlers
from .gateway import IdempotencyKeyReused, PaymentError, PaymentGateway
from .models import UsageInvoice
from .problems import provider_problem

KIND = "usage_invoice"


def paid_key(invoice_id: int) -> str:
    return f"usage-invoice:{invoice_id}"


def usage_in_period(uow: UnitOfWork, brand_org_id: int, currency: str, start: datetime, end: datetime) -> int:
    """What metering charged the brand in ``[start, end)``: the receivable's movements, payments excluded."""
    query = (
        sa_select(func.coalesce(func.sum(Posting.amount), 0))
        .select_from(Posting)
        .join(Entry, col(Entry.seq) == Posting.entry_seq)
        .join(Account, col(Account.id) == Posting.account_id)
        .where(
            col(Account.code) == chart.brand_receivable(brand_org_id, currency),
            col(Entry.effective_at) >= start,
            col(Entry.effective_at) < end,
            col(Entry.kind) != "usage.invoice_paid",
        )
    )
    return int(uow.session.execute(query).scalar_one())


@dataclass(frozen=True)
class InvoiceStarted:
    invoice_id: int
    amount: int
    currency: str
    checkout_session_id: str
    url: str | None


def invoice_brand_usage(
    uow: UnitOfWork,
    now: datetime,
    *,
    brand_org_id: int,
    currency: str,
    period_start: datetime,
    period_end: datetime,
    gateway: PaymentGateway,
    success_url: str,
    cancel_url: str,
) -> InvoiceStarted:
    if period_end <= period_start:
        raise ValidationProblem(errors={"period_end": "must be after period_start"})
    if period_end > now:
        raise ValidationProblem(errors={"period_end": "a period is invoiced once it has ended"})
    if uow.session.get(Organisation, brand_org_id, with_for_update=True) is None:
        raise NotFound("No such brand.")
    existing = uow.session.exec(
        select(UsageInvoice).where(
            UsageInvoice.brand_org_id == brand_org_id,
            UsageInvoice.currency == currency,
            UsageInvoice.status != "void",
            UsageInvoice.period_start < period_end,
            UsageInvoice.period_end > period_start,
        )
    ).first()
    if existing is not None:
        if (existing.period_start, existing.period_end) != (period_start, period_end) or existing.status != "open":
            raise Conflict(f"Invoice #{existing.id} already covers part of this period.", invoice_id=existing.id)
        invoice = existing
    else:
        amount = usage_in_period(uow, brand_org_id, currency, period_start, period_end)
        if amount <= 0:
            raise Conflict("The brand has no usage to invoice in this period.")
        invoice = UsageInvoice(
            brand_org_id=brand_org_id,
            currency=currency,
            period_start=period_start,
            period_end=period_end,
            amount=amount,
            status="open",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(invoice)
        uow.session.flush()
    try:
        if invoice.checkout_session_id:
            current = gateway.retrieve_checkout_session(invoice.checkout_session_id)
            if (current.success_url, current.cancel_url) not in ((success_url, cancel_url), (None, None)):
                raise _conflict(id_of(invoice))
        session = gateway.create_checkout_session(
            amount=invoice.amount,
            currency=currency,
            product_name=f"Usage {period_start:%Y-%m-%d} – {period_end:%Y-%m-%d} (invoice #{invoice.id})",
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=f"usage-invoice-checkout:{invoice.id}",
            metadata={"kind": KIND, "usage_invoice_id": str(invoice.id)},
            client_reference_id=f"usage-invoice-{invoice.id}",
        )
    except IdempotencyKeyReused as exc:
        raise _conflict(id_of(invoice)) from exc
    except PaymentError as exc:
        raise provider_problem(exc) from exc
    invoice.checkout_session_id, invoice.updated_at = session.id, now
    uow.session.flush()
    return InvoiceStarted(id_of(invoice), invoice.amount, currency, session.id, session.url)


def _conflict(invoice_id: int) -> Conflict:
    return Conflict(
        f"Invoice #{invoice_id} is open with a checkout for other return addresses: pay that one, "
        "or ask again with the same success and cancel URLs.",
        code="idempotency_conflict",
        invoice_id=invoice_id,
    )


def record_invoice_payment(
    uow: UnitOfWork, ctx: EventContext, invoice_id: int, payment_intent_id: str, effective_at: datetime
) -> UsageInvoice:
    invoice = uow.session.get(UsageInvoice, invoice_id, with_for_update=True)
    if invoice is None:
        raise LookupError(f"usage invoice {invoice_id} does not exist")
    if invoice.entry_seq is not None:
        if invoice.payment_intent_id != payment_intent_id:
            raise Conflict(f"usage invoice {invoice_id} was already paid by {invoice.payment_intent_id}")
        return invoice
    charge = ctx.gateway.retrieve_charge(payment_intent_id=payment_intent_id)
    if (charge.amount, charge.currency) != (invoice.amount, invoice.currency):
        raise Conflict(f"charge {charge.id} does not match usage invoice {invoice_id}")
    draft = recipes.usage_invoice_paid(
        key=paid_key(invoice_id),
        effective_at=effective_at,
        currency=charge.currency,
        amount=charge.amount,
        stripe_fee=charge.fee,
        brand_id=invoice.brand_org_id,
        memo=f"usage invoice #{invoice_id} paid",
        meta={"usage_invoice_id": invoice_id, "payment_intent": payment_intent_id, "charge": charge.id},
    )
    posted = ctx.post(uow, draft)
    invoice.payment_intent_id, invoice.charge_id, invoice.fee = payment_intent_id, charge.id, charge.fee
    invoice.status, invoice.entry_seq, invoice.paid_at, invoice.updated_at = "paid", posted.seq, effective_at, ctx.now
    uow.session.flush()
    return invoice


def register_handlers(handlers: WebhookHandlers) -> None:
    handlers.register_payment(KIND, "usage_invoice_id", record_invoice_payment)
