"""What every resource module shares: the context, the route table, helpers.

A resource handler is a plain function ``handler(call) -> dict`` registered with
:func:`route` for one (method, spec path template). It reads already-coerced,
already-validated ``call.params``, changes ``call.book`` (the account named by
the ``Stripe-Account`` header, or the platform), emits events through
``call.ctx.emit`` and returns the object to render. Errors are raised as
:class:`~stripe_emulator.errors.StripeError`.

Operations that tests and HTML pages trigger without a Stripe request (paying a
checkout session, completing onboarding, opening a dispute) are plain functions
taking a :class:`Context`; handlers and the control API both call them.

Stored objects may carry private bookkeeping under keys starting with ``_``;
:func:`render` strips them (and expands ``expand[]`` paths) on the way out.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import money
from ..errors import StripeError, missing
from ..state import AccountBook, Clock, IdFactory, Store

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class Context:
    """The world a resource operation acts on."""

    store: Store
    clock: Clock
    ids: IdFactory
    base_url: str
    on_event: EventSink
    request: dict[str, Any] | None = None  # {"id": req_…, "idempotency_key": …}
    available_delay: int = 0  # seconds a card charge's funds stay pending

    def now(self) -> int:
        return int(self.clock())

    def emit(
        self,
        book: AccountBook,
        event_type: str,
        obj: dict[str, Any],
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record an event in ``book`` (connected-account events carry ``account``)."""
        data: dict[str, Any] = {"object": public_copy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": self.ids.new("evt"),
            "object": "event",
            "api_version": "2024-04-10",
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {
                "id": (self.request or {}).get("id"),
                "idempotency_key": (self.request or {}).get("idempotency_key"),
            },
            "type": event_type,
        }
        if book.id != self.store.platform_id:
            event["account"] = book.id
        book.add(event)
        self.on_event(event)
        return event


@dataclass
class Call:
    """One Stripe API request, as a handler sees it."""

    ctx: Context
    book: AccountBook
    params: dict[str, Any]
    path: dict[str, str] = field(default_factory=dict)

    def path_id(self) -> str:
        """The last path parameter (``/v1/transfers/{id}`` → ``id``)."""
        return list(self.path.values())[-1]


Handler = Callable[[Call], dict[str, Any]]
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method.lower(), template)] = handler
        return handler

    return register


def readable(object_type: str, item_template: str, list_template: str | None = None, *filters: str) -> None:
    """Register the usual ``GET`` one / ``GET`` list handlers of a stored object type.

    ``filters`` are list parameters that must equal the object's field of the same name.
    """

    def retrieve(call: Call) -> dict[str, Any]:
        param = list(call.path)[-1]
        return render(call, require(call.book, call.path_id(), object_type, object_type, param))

    route("get", item_template)(retrieve)
    if list_template is not None:

        def list_objects(call: Call) -> dict[str, Any]:
            found = matching(call.book.newest_first(object_type), call.params, *filters)
            return render(call, list_page(call, found, list_template))

        route("get", list_template)(list_objects)


# -- parameters -------------------------------------------------------------------
def int_param(params: dict[str, Any], name: str, default: int | None = None) -> int:
    """An integer parameter (already coerced, or a string when checks are off)."""
    value = params.get(name, default)
    if value is None:
        raise StripeError(f"Missing required param: {name}.", param=name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value!r}", param=name) from None


def positive_amount(params: dict[str, Any], name: str = "amount") -> int:
    amount = int_param(params, name)
    if amount <= 0:
        raise StripeError("This value must be greater than or equal to 1.", param=name)
    return amount


def metadata_param(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata merge: ``""`` clears all, a key set to ``""`` is removed."""
    merged = dict(current or {})
    given = params.get("metadata")
    if given == "":
        return {}
    for key, value in (given or {}).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def currency_param(params: dict[str, Any], name: str = "currency") -> str:
    """A currency Stripe charges in (lower case), or Stripe's 400 naming the param."""
    value = params.get(name)
    if not value:
        raise StripeError(f"Missing required param: {name}.", param=name)
    return money.currency(value, name)


def require(book: AccountBook, object_id: str, object_type: str, kind: str, param: str = "id") -> dict[str, Any]:
    obj = book.get(object_id, object_type)
    if obj is None:
        raise missing(kind, object_id, param)
    return obj


# -- lists ---------------------------------------------------------------------------
def created_matches(created: int, condition: Any) -> bool:
    """Stripe's ``created`` filter: an exact integer or ``{gt,gte,lt,lte}``."""
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return created == int(condition)
    checks = {"gt": created.__gt__, "gte": created.__ge__, "lt": created.__lt__, "lte": created.__le__}
    return all(checks[op](int(bound)) for op, bound in condition.items() if op in checks)


def list_page(call: Call, objects: Iterable[dict[str, Any]], url: str) -> dict[str, Any]:
    """One page of a newest-first list, with ``limit``/``starting_after``/``ending_before``."""
    params = call.params
    limit = max(1, min(100, int_param(params, "limit", 10)))
    items = [obj for obj in objects if created_matches(obj["created"], params.get("created"))]
    ids = [obj["id"] for obj in items]
    if params.get("starting_after"):
        cursor = params["starting_after"]
        start = ids.index(cursor) + 1 if cursor in ids else len(ids)
        window = items[start : start + limit]
        has_more = start + limit < len(items)
    elif params.get("ending_before"):
        cursor = params["ending_before"]
        end = ids.index(cursor) if cursor in ids else 0
        window = items[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        window, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": window, "has_more": has_more, "url": url}


def matching(objects: Iterable[dict[str, Any]], params: dict[str, Any], *fields: str) -> list[dict[str, Any]]:
    """Objects whose ``field`` equals the parameter of the same name, when given."""
    wanted = {name: params[name] for name in fields if params.get(name) is not None}
    return [obj for obj in objects if all(obj.get(k) == v for k, v in wanted.items())]


# -- rendering -----------------------------------------------------------------------
def public_copy(value: Any) -> Any:
    """A deep copy without private ``_`` keys: what a client may see."""
    if isinstance(value, dict):
        return {k: public_copy(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public_copy(item) for item in value]
    return copy.copy(value)


def render(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    rendered = public_copy(obj)
    for path in call.params.get("expand") or []:
        _expand(call, rendered, str(path).split("."))
    return rendered


def _expand(call: Call, node: Any, parts: list[str]) -> None:
    if not parts or not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if head == "data" and isinstance(node.get("data"), list):
        for item in node["data"]:
            _expand(call, item, rest)
        return
    value = node.get(head)
    if isinstance(value, str):
        found = call.book.get(value) or call.ctx.store.platform.get(value)
        if found is None:
            hit = call.ctx.store.find_anywhere(value)
            found = hit[1] if hit else None
        if found is not None:
            node[head] = value = public_copy(found)
    _expand(call, value, rest)
