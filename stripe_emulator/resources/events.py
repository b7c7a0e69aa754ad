"""Events: ``GET /v1/events`` and ``GET /v1/events/{id}`` per account.

Events are created by :meth:`~stripe_emulator.resources.common.Context.emit`
whenever an object changes; they live in the book of the account they happened
on, so a connected account's events are listed with its ``Stripe-Account``.
"""

from __future__ import annotations

from typing import Any

from .common import Call, list_page, render, require, route


@route("get", "/v1/events")
def list_events(call: Call) -> dict[str, Any]:
    params = call.params
    wanted = set(params.get("types") or ([params["type"]] if params.get("type") else []))
    events = [e for e in call.book.newest_first("event") if not wanted or _type_matches(e["type"], wanted)]
    return render(call, list_page(call, events, "/v1/events"))


def _type_matches(event_type: str, wanted: set[str]) -> bool:
    """Stripe allows one trailing wildcard: ``charge.*``."""
    return any(event_type == w or (w.endswith("*") and event_type.startswith(w[:-1])) for w in wanted)


@route("get", "/v1/events/{id}")
def retrieve_event(call: Call) -> dict[str, Any]:
    return render(call, require(call.book, call.path_id(), "event", "event"))
