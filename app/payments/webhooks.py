"""``POST /webhooks/stripe``: verify, store once, process.

A forged, malformed or stale signature is answered 400 (problem+json) and nothing is
recorded.  A verified event is committed to ``stripe_event`` before it is processed;
whatever processing then does, the answer is 200, because the event is safe with us
and ``retry-events`` finishes the job (a 5xx would only make Stripe resend what we
already hold).  A duplicate of a processed event changes nothing; a duplicate of an
event still pending is one more processing attempt.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.db import get_db
from app.errors import Problem

from .events import is_processed, process_event, store_event
from .gateway import WebhookSignatureError
from .wiring import event_context, get_gateway

bp = Blueprint("stripe_webhooks", __name__, url_prefix="/webhooks")


class BadSignature(Problem):
    status = 400
    title = "Invalid webhook signature"


@bp.post("/stripe")
def stripe_webhook():
    payload = request.get_data(cache=False)
    header = request.headers.get("Stripe-Signature", "")
    now = current_app.config["CLOCK"]()
    try:
        event = get_gateway().parse_webhook(payload, header, now=now)
    except WebhookSignatureError as exc:
        raise BadSignature(str(exc)) from None
    db = get_db()
    new = store_event(db, event, payload, now)
    if not new and is_processed(db, event.id):
        return jsonify(received=True, duplicate=True, processed=True), 200
    processed = process_event(db, event.id, event_context())
    return jsonify(received=True, duplicate=not new, processed=processed), 200
