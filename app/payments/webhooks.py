"""``POST /webhooks/stripe``: verify, store once, process.

A forged, malformed or stale signature is answered 400 (problem+json) and nothing is
recorded.  A verified event is committed to ``stripe_event`` before it is processed;
whatever processing then does, the answer is 200, because the event is safe with us
and ``retry-events`` finishes the job (a 5xx would only make Stripe resend what we
already hold).  A duplicate of a processed event changes nothing; a duplicate of an
event still pending is one more processing attempt.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.clock import Clock
from app.db import Database
from app.errors import Problem
from app.kit.registry import provided
from ledger import Ledger

from .events import EventContext, WebhookHandlers, is_processed, process_event, store_event
from .gateway import PaymentGateway, WebhookSignatureError

bp = Blueprint("stripe_webhooks", __name__, url_prefix="/webhooks")


class BadSignature(Problem):
    status = 400
    title = "Invalid webhook signature"


@bp.post("/stripe")
def stripe_webhook():
    payload = request.get_data(cache=False)
    header = request.headers.get("Stripe-Signature", "")
    now = provided(Clock)()
    gateway = provided(PaymentGateway)
    try:
        event = gateway.parse_webhook(payload, header, now=now)
    except WebhookSignatureError as exc:
        raise BadSignature(str(exc)) from None
    db = provided(Database)
    new = store_event(db, event, payload, now)
    if not new and is_processed(db, event.id):
        return jsonify(received=True, duplicate=True, processed=True), 200
    context = EventContext(gateway=gateway, ledger=provided(Ledger), now=now)
    processed = process_event(db, provided(WebhookHandlers), event.id, context)
    return jsonify(received=True, duplicate=not new, processed=processed), 200
