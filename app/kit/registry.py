"""Where pages, API routes, commands and jobs find the app's collaborators.

The composition root (``app.services``) builds every collaborator of an app — the
database, the ledger, the clock, the payment gateway, the receipt keys, the settler,
… — and registers each under the type its users know it by (an interface such as
``PaymentGateway`` or a concrete class).  Code below the root asks for it by that
type: ``provided(PaymentGateway)``.  This module imports no feature; the caller names
the type, so the kit needs not know it, and no feature ever imports the root.

Services themselves never call ``provided``: they receive their collaborators as
arguments from the page, command or job that calls them.

A collaborator may be registered ready-made or as a factory that runs on first use
(the payment gateway is built only when something needs it, so an app without
Stripe settings starts and answers 503 where payments are needed).  A factory that
raises is tried again on the next use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app

T = TypeVar("T")
EXTENSION = "cameo.registry"


class Registry:
    def __init__(self) -> None:
        self._ready: dict[type, Any] = {}
        self._factories: dict[type, Callable[[], Any]] = {}
        self._lock = threading.Lock()

    def provide(self, kind: type[T], value: T) -> None:
        """Register ``value`` as the app's ``kind`` (replacing an earlier one)."""
        with self._lock:
            self._factories.pop(kind, None)
            self._ready[kind] = value

    def provide_lazily(self, kind: type[T], factory: Callable[[], T]) -> None:
        """Register ``factory`` to build the app's ``kind`` once, on first use."""
        with self._lock:
            self._ready.pop(kind, None)
            self._factories[kind] = factory

    def get(self, kind: type[T]) -> T:
        try:
            return cast(T, self._ready[kind])
        except KeyError:
            pass
        with self._lock:
            if kind not in self._ready:
                try:
                    factory = self._factories[kind]
                except KeyError:
                    raise LookupError(f"no {kind.__name__} is registered with this app") from None
                self._ready[kind] = factory()
            return cast(T, self._ready[kind])

    def built(self, kind: type[T]) -> T | None:
        """The ``kind`` if it exists already (never builds one)."""
        return cast("T | None", self._ready.get(kind))


def install(app: Flask, registry: Registry) -> None:
    app.extensions[EXTENSION] = registry


def registry_of(app: Flask | None = None) -> Registry:
    return cast(Registry, (app or current_app).extensions[EXTENSION])


def current_app_object() -> Flask:
    """The current context's app itself rather than Flask's proxy to it: for what outlives
    the context or runs on another thread (the scheduler, a sending loop)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is a LocalProxy typed as Flask


def provided(kind: type[T], app: Flask | None = None) -> T:
    """The app's ``kind`` (the current app's unless ``app`` is given)."""
    return registry_of(app).get(kind)
