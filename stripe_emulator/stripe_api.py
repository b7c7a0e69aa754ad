"""The Stripe-facing half of the WSGI app: one request through every check.

Order, as Stripe applies it (each step answers with Stripe's error envelope):

1. ``Authorization: Bearer sk_test_…`` (401), and ``Stripe-Version``, when sent, must be
   the version of the emulator's spec (2024-04-10; 400 otherwise — the emulator cannot
   answer in another version's shapes, and an unpinned SDK sends its own, newer one);
2. the route must exist in the spec (404) and in the emulator (404, named);
3. ``Stripe-Account`` must be a known connected account (403);
4. POST bodies must be ``application/x-www-form-urlencoded``; nested keys are
   rebuilt, strings coerced, and the params validated against the spec (400);
5. write rate limit and injected 500/429 faults (nothing executes or is stored);
6. idempotency: replay, conflict, or mark in flight;
7. execute the handler under the emulator's lock, store the response for replay;
8. check the response against the spec's response schema;
9. injected ``timeout`` (hold) / ``lost_response`` (drop the connection).

Every request is appended to the emulator's request log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from .emulator import Emulator
from .errors import StripeError
from .faults import FaultRule
from .forms import FormKeyError, coerce, unflatten
from .idempotency import fingerprint
from .resources import ROUTES, Call
from .spec import template_pattern

log = logging.getLogger(__name__)
FORM_TYPE = "application/x-www-form-urlencoded"
WRITE_METHODS = ("POST", "DELETE")
_ROUTE_PATTERNS = [(method, template, template_pattern(template)) for method, template in ROUTES]


@dataclass
class Outcome:
    status: int
    body: bytes
    headers: dict[str, str]


def json_body(data: Any) -> bytes:
    return json.dumps(data, indent=2).encode()


def error_outcome(error: StripeError) -> Outcome:
    return Outcome(error.status, json_body(error.envelope()), dict(error.headers))


def handle(emulator: Emulator, request: Request) -> Response:
    """Serve one Stripe API request (never raises StripeError)."""
    method, path = request.method.upper(), request.path
    request_id = emulator.ids.new("req")
    record: dict[str, Any] = {
        "method": method,
        "path": path,
        "params": None,
        "account": request.headers.get("Stripe-Account"),
        "idempotency_key": request.headers.get("Idempotency-Key"),
        "stripe_version": request.headers.get("Stripe-Version"),
        "status": None,
        "replayed": False,
        "fault": None,
        "request_id": request_id,
    }
    fault: FaultRule | None = None
    try:
        outcome, fault = _serve(emulator, request, record)
    except StripeError as error:
        outcome = error_outcome(error)
    except Exception as exc:  # a bug in a handler: Stripe's 500, never a dead connection
        log.exception("emulator failed on %s %s", method, path)
        outcome = error_outcome(StripeError(f"Emulator error: {exc!r}", status=500, type="api_error"))
    record["status"] = outcome.status
    emulator.log_request(record)
    outcome.headers.update({"Request-Id": request_id, "Stripe-Version": emulator.api_version})
    if record["idempotency_key"]:
        outcome.headers["Idempotency-Key"] = record["idempotency_key"]
    if fault is not None and fault.kind == "timeout":
        emulator.hold(fault.seconds)
    if fault is not None and fault.kind == "lost_response":
        _drop_connection(request)
    return Response(outcome.body, status=outcome.status, headers=outcome.headers, content_type="application/json")


def _serve(emulator: Emulator, request: Request, record: dict[str, Any]) -> tuple[Outcome, FaultRule | None]:
    method, path = record["method"], record["path"]
    _authenticate(request)
    _check_version(emulator, request)
    handler, _template, path_params, op = _route(emulator, method, path)
    params = _params(request, method)
    if op is not None:
        params = emulator.checker.coerce_request(op, params)
        record["params"] = params
        emulator.checker.check_request(op, params)
    else:
        params = coerce(params, None, lambda schema: schema)
        record["params"] = params
    book = emulator.book_for(record["account"])
    if method in WRITE_METHODS and not emulator.rate_limiter.allow():
        raise StripeError(
            "Too many requests hit the API too quickly (emulator write rate limit).",
            status=429,
            type="invalid_request_error",
            code="rate_limit",
            headers={"Stripe-Should-Retry": "true"},
        )
    fault = emulator.faults.take(method, path)
    record["fault"] = fault.kind if fault else None
    if fault is not None and fault.kind == "error_500":
        raise StripeError("An unknown error occurred (injected by the emulator).", status=500, type="api_error")
    if fault is not None and fault.kind == "rate_limit":
        raise StripeError(
            "Request rate limit exceeded (injected by the emulator).",
            status=429,
            type="invalid_request_error",
            code="rate_limit",
            headers={"Stripe-Should-Retry": "true"},
        )
    key = record["idempotency_key"] if method in WRITE_METHODS else None
    scope = (book.id, key) if key else None
    print_ = fingerprint(method, path, params)
    if scope is not None:
        with emulator.lock:
            stored = emulator.idempotency.begin(scope, print_)
        if stored is not None:
            record["replayed"] = True
            return Outcome(stored.status, stored.body, {"Idempotent-Replayed": "true"}), fault
    try:
        with emulator.lock:
            ctx = emulator.context(request.host_url, {"id": record["request_id"], "idempotency_key": key})
            try:
                status, body = 200, handler(Call(ctx, book, params, path_params))
            except StripeError as error:
                status, body = error.status, error.envelope()
            outcome = Outcome(status, json_body(body), {})
            if scope is not None:
                emulator.idempotency.finish(scope, print_, outcome.status, outcome.body)
            if method in WRITE_METHODS:
                emulator.persist()
    except BaseException:
        if scope is not None:
            with emulator.lock:
                emulator.idempotency.abandon(scope)
        raise
    if op is not None:
        emulator.check_response(op, method, path, status, body)
    return outcome, fault


def _authenticate(request: Request) -> None:
    header = request.headers.get("Authorization", "")
    key = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
    if not key:
        raise StripeError(
            "You did not provide an API key. Provide it in the Authorization header as 'Bearer sk_test_...'.",
            status=401,
        )
    if not key.startswith("sk_test_"):
        raise StripeError(
            f"Invalid API Key provided: {key[:8]}… (the emulator accepts sk_test_ keys only — it moves no real money)",
            status=401,
        )


def _check_version(emulator: Emulator, request: Request) -> None:
    asked = request.headers.get("Stripe-Version")
    if asked and asked != emulator.api_version:
        raise StripeError(
            f"The local Stripe emulator speaks Stripe API version {emulator.api_version} only "
            f"(the version of its OpenAPI spec); this request asked for {asked!r}. Pin the "
            f'client: stripe.StripeClient(..., stripe_version="{emulator.api_version}").',
            status=400,
        )


def _route(emulator: Emulator, method: str, path: str):
    unknown = StripeError(
        f"Unrecognized request URL ({method}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        status=404,
    )
    op = None
    if emulator.spec is not None:
        found = emulator.spec.find(method, path)
        if found is None:
            raise unknown
        op, path_params = found
        handler = ROUTES.get((method.lower(), op.template))
        if handler is None:
            raise StripeError(
                f"The local Stripe emulator does not implement {method} {op.template} (it exists in Stripe's API).",
                status=404,
            )
        return handler, op.template, path_params, op
    for route_method, template, pattern in _ROUTE_PATTERNS:
        match = pattern.match(path)
        if route_method == method.lower() and match:
            return ROUTES[(route_method, template)], template, match.groupdict(), None
    raise unknown


def _params(request: Request, method: str) -> dict[str, Any]:
    try:
        if method == "GET" or (method == "DELETE" and not request.content_length):
            return unflatten(request.args.items(multi=True))
        body = request.get_data(cache=True)
        if body and request.mimetype != FORM_TYPE:
            raise StripeError(
                f"Invalid request: POST bodies must be {FORM_TYPE} (got {request.mimetype or 'no Content-Type'})."
            )
        return unflatten(request.form.items(multi=True))
    except FormKeyError as error:
        raise StripeError(str(error), param=error.key) from None


def _drop_connection(request: Request) -> None:
    """Close the socket under the client's feet; werkzeug treats it as a dropped connection."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("response lost on purpose (emulator fault injection)")
