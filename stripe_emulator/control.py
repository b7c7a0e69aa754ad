"""The emulator's own API and pages under ``/_emulator/`` (not Stripe; no spec check).

JSON control API (bodies are JSON objects; answers are JSON):

=======  ===========================================  =======================================
GET      /_emulator/status                            contract checks on?, spec, platform id
POST     /_emulator/reset                             forget everything
POST     /_emulator/accounts/<acct>/complete_onboarding   (also lifts a restriction)
POST     /_emulator/accounts/<acct>/restrict          ``{"disabled_reason"?, "currently_due"?}``: payouts off
POST     /_emulator/accounts/<acct>/reject            ``{"reason"?: "fraud" | "terms_of_service" | "other"}``
POST     /_emulator/accounts/<acct>/close             the account is gone (transfers: ``account_invalid``)
POST     /_emulator/checkout_sessions/<cs>/pay
POST     /_emulator/disputes                          ``{"charge": ch_… | pi_…, "reason"?}``
POST     /_emulator/platform_funds                    ``{"amount": 10000, "currency": "usd"}`` (available at once)
POST     /_emulator/balance/available_delay           ``{"seconds": 172800}``: how long new card charges stay pending
POST     /_emulator/balance/release                   ``{"account"?: acct_…}``: pending funds become available now
GET      /_emulator/faults                            armed faults
POST     /_emulator/faults                            ``{"kind", "method"?, "path_prefix"?, "count"?, "seconds"?}``
DELETE   /_emulator/faults                            disarm all
GET      /_emulator/requests                          request log (``?method=&path_prefix=``)
DELETE   /_emulator/requests                          clear it
GET      /_emulator/webhooks                          endpoints and queue length
POST     /_emulator/webhooks                          ``{"url", "secret", "enabled_events"?, "connect"?}``
POST     /_emulator/webhooks/deliver                  one delivery pass ``{"duplicate"?, "shuffle"?}``
POST     /_emulator/rate_limit                        ``{"writes_per_second": 100 | null}``
GET      /_emulator/objects/<type>                    ``?account=acct_…`` (newest first)
=======  ===========================================  =======================================

HTML pages that Stripe would host: ``/_emulator/onboard/<acct>`` (GET form,
POST completes onboarding and redirects to the link's ``return_url``) and
``/_emulator/checkout/<cs>`` (GET shows a Pay button, POST pays and redirects to
``success_url``).
"""

from __future__ import annotations

import html
import json
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .emulator import Emulator
from .errors import StripeError
from .resources.accounts import link_return_url

PREFIX = "/_emulator"

_RULES = Map(
    [
        Rule(f"{PREFIX}/status", endpoint="status", methods=["GET"]),
        Rule(f"{PREFIX}/reset", endpoint="reset", methods=["POST"]),
        Rule(f"{PREFIX}/accounts/<account>/complete_onboarding", endpoint="complete_onboarding", methods=["POST"]),
        Rule(f"{PREFIX}/accounts/<account>/restrict", endpoint="restrict", methods=["POST"]),
        Rule(f"{PREFIX}/accounts/<account>/reject", endpoint="reject", methods=["POST"]),
        Rule(f"{PREFIX}/accounts/<account>/close", endpoint="close", methods=["POST"]),
        Rule(f"{PREFIX}/checkout_sessions/<session>/pay", endpoint="pay", methods=["POST"]),
        Rule(f"{PREFIX}/disputes", endpoint="dispute", methods=["POST"]),
        Rule(f"{PREFIX}/platform_funds", endpoint="funds", methods=["POST"]),
        Rule(f"{PREFIX}/balance/available_delay", endpoint="available_delay", methods=["POST"]),
        Rule(f"{PREFIX}/balance/release", endpoint="release", methods=["POST"]),
        Rule(f"{PREFIX}/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule(f"{PREFIX}/requests", endpoint="requests", methods=["GET", "DELETE"]),
        Rule(f"{PREFIX}/webhooks", endpoint="webhooks", methods=["GET", "POST"]),
        Rule(f"{PREFIX}/webhooks/deliver", endpoint="deliver", methods=["POST"]),
        Rule(f"{PREFIX}/rate_limit", endpoint="rate_limit", methods=["POST"]),
        Rule(f"{PREFIX}/objects/<object_type>", endpoint="objects", methods=["GET"]),
        Rule(f"{PREFIX}/onboard/<account>", endpoint="onboard_page", methods=["GET", "POST"]),
        Rule(f"{PREFIX}/checkout/<session>", endpoint="checkout_page", methods=["GET", "POST"]),
    ]
)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=2), status=status, content_type="application/json")


def handle(emulator: Emulator, request: Request) -> Response:
    adapter = _RULES.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match()
        body = request.get_json(silent=True) or {}
        return _ENDPOINTS[endpoint](emulator, request, body, **args)
    except StripeError as error:
        return _json(error.envelope(), error.status)
    except (ValueError, KeyError, TypeError) as error:
        return _json({"error": {"type": "invalid_request_error", "message": str(error)}}, 400)
    except NotFound:
        return _json(
            {"error": {"type": "invalid_request_error", "message": f"no emulator control endpoint {request.path}"}}, 404
        )
    except HTTPException as error:
        return _json({"error": {"type": "invalid_request_error", "message": error.description}}, error.code or 400)


def _status(emulator: Emulator, request: Request, body: dict) -> Response:
    return _json(emulator.status())


def _reset(emulator: Emulator, request: Request, body: dict) -> Response:
    emulator.reset()
    return _json({"reset": True})


def _complete_onboarding(emulator: Emulator, request: Request, body: dict, account: str) -> Response:
    return _json(emulator.complete_onboarding(account))


def _restrict(emulator: Emulator, request: Request, body: dict, account: str) -> Response:
    options = {key: body[key] for key in ("disabled_reason", "currently_due") if key in body}
    if not isinstance(options.get("currently_due", []), list):
        raise ValueError("currently_due is a list of requirement names")
    return _json(emulator.restrict_account(account, **options))


def _reject(emulator: Emulator, request: Request, body: dict, account: str) -> Response:
    return _json(emulator.reject_account(account, body.get("reason", "fraud")))


def _close(emulator: Emulator, request: Request, body: dict, account: str) -> Response:
    return _json(emulator.close_account(account))


def _pay(emulator: Emulator, request: Request, body: dict, session: str) -> Response:
    return _json(emulator.pay_checkout_session(session))


def _dispute(emulator: Emulator, request: Request, body: dict) -> Response:
    target = body.get("charge") or body["payment_intent"]
    return _json(emulator.open_dispute(target, body.get("reason", "fraudulent")))


def _funds(emulator: Emulator, request: Request, body: dict) -> Response:
    return _json(emulator.add_platform_funds(int(body["amount"]), body.get("currency", "usd")))


def _available_delay(emulator: Emulator, request: Request, body: dict) -> Response:
    emulator.set_available_delay(body["seconds"])
    return _json({"available_delay_seconds": emulator.available_delay})


def _release(emulator: Emulator, request: Request, body: dict) -> Response:
    return _json({"released": emulator.release_pending_funds(body.get("account"))})


def _faults(emulator: Emulator, request: Request, body: dict) -> Response:
    if request.method == "POST":
        rule = emulator.inject_fault(
            body["kind"],
            method=body.get("method"),
            path_prefix=body.get("path_prefix"),
            count=int(body.get("count", 1)),
            seconds=float(body.get("seconds", 0)),
        )
        return _json(rule.to_json())
    if request.method == "DELETE":
        emulator.clear_faults()
    return _json({"faults": emulator.list_faults()})


def _requests(emulator: Emulator, request: Request, body: dict) -> Response:
    if request.method == "DELETE":
        emulator.clear_requests()
        return _json({"requests": []})
    return _json({"requests": emulator.requests(request.args.get("method"), request.args.get("path_prefix"))})


def _webhooks(emulator: Emulator, request: Request, body: dict) -> Response:
    if request.method == "POST":
        endpoint = emulator.add_webhook_endpoint(
            body["secret"],
            url=body["url"],
            enabled_events=tuple(body.get("enabled_events", ["*"])),
            connect=bool(body.get("connect", True)),
        )
        return _json(endpoint.to_json())
    return _json(
        {
            "endpoints": [e.to_json() for e in emulator.webhooks.endpoints.values()],
            "pending": len(emulator.webhooks.pending),
            "dead": len(emulator.webhooks.dead),
        }
    )


def _deliver(emulator: Emulator, request: Request, body: dict) -> Response:
    report = emulator.deliver_pending(duplicate=body.get("duplicate"), shuffle=body.get("shuffle"))
    return _json(report.to_json())


def _rate_limit(emulator: Emulator, request: Request, body: dict) -> Response:
    limit = body.get("writes_per_second")
    emulator.set_write_rate_limit(int(limit) if limit else None)
    return _json({"writes_per_second": emulator.rate_limiter.per_second})


def _objects(emulator: Emulator, request: Request, body: dict, object_type: str) -> Response:
    return _json({"data": emulator.objects(object_type, request.args.get("account"))})


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<p style="background:#fde68a;padding:.5em"><strong>Local Stripe emulator — no real money.</strong></p>
<h1>{title}</h1>{content}
<form method="post"><button type="submit" id="{button_id}">{button}</button></form>
</body></html>"""


def _page(title: str, content: str, button: str, button_id: str) -> Response:
    return Response(
        _PAGE.format(title=html.escape(title), content=content, button=html.escape(button), button_id=button_id),
        content_type="text/html; charset=utf-8",
    )


def _onboard_page(emulator: Emulator, request: Request, body: dict, account: str) -> Response:
    link = request.args.get("link")
    if request.method == "POST":
        emulator.complete_onboarding(account)
        with emulator.lock:
            target = link_return_url(emulator.context(), link)
        return redirect(target, 303) if target else _json({"onboarded": account})
    details = emulator.get_object(account)
    if details is None:
        raise StripeError(f"No such account: '{account}'", status=404)
    content = (
        f"<p>Account <code>{html.escape(account)}</code> ({html.escape(str(details.get('email')))})"
        " — pretend you entered identity and bank details.</p>"
    )
    return _page("Connect onboarding", content, "Complete onboarding", "complete-onboarding")


def _checkout_page(emulator: Emulator, request: Request, body: dict, session: str) -> Response:
    if request.method == "POST":
        paid = emulator.pay_checkout_session(session)
        return redirect(paid["success_url"], 303) if paid.get("success_url") else _json(paid)
    details = emulator.get_object(session)
    if details is None or details.get("object") != "checkout.session":
        raise StripeError(f"No such checkout.session: '{session}'", status=404)
    amount = f"{details['amount_total']} {details['currency'].upper()} (minor units)"
    content = (
        f"<p>Session <code>{html.escape(session)}</code>: <strong>{html.escape(amount)}</strong>,"
        f" status {html.escape(details['status'])}.</p>"
    )
    return _page("Checkout", content, "Pay", "pay")


_ENDPOINTS = {
    "status": _status,
    "reset": _reset,
    "complete_onboarding": _complete_onboarding,
    "pay": _pay,
    "restrict": _restrict,
    "reject": _reject,
    "close": _close,
    "dispute": _dispute,
    "funds": _funds,
    "available_delay": _available_delay,
    "release": _release,
    "faults": _faults,
    "requests": _requests,
    "webhooks": _webhooks,
    "deliver": _deliver,
    "rate_limit": _rate_limit,
    "objects": _objects,
    "onboard_page": _onboard_page,
    "checkout_page": _checkout_page,
}
