"""Webhook endpoints and at-least-once, Stripe-signed delivery.

Each event emitted while an endpoint is registered is queued for that endpoint.
:meth:`WebhookDispatcher.deliver_pending` makes one deterministic pass over the
queue — tests call it instead of sleeping — POSTing the event JSON with
``Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>``.
A delivery that gets a non-2xx answer or a connection error stays queued and is
retried on the next pass (at least once); after ``max_attempts`` it is dropped
into ``dead``. Options make delivery as unfriendly as Stripe's can be:
``duplicate`` sends every event twice, ``shuffle`` sends a pass in random order.

An endpoint is either a ``url`` (HTTP) or a ``target`` callable
``target(payload: bytes, headers: dict) -> int`` for in-process tests. In server
mode :meth:`start_background` delivers every ``interval`` seconds.

Deliveries never run under the emulator's lock: a receiver may call the
emulator back (as the project's webhook handler does).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Target = Callable[[bytes, dict[str, str]], int]


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` at ``timestamp``."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class WebhookEndpoint:
    id: str
    secret: str
    url: str | None = None
    target: Target | None = None
    enabled_events: tuple[str, ...] = ("*",)
    connect: bool = True  # also receive connected accounts' events

    def wants(self, event: dict[str, Any]) -> bool:
        if "account" in event and not self.connect:
            return False
        return any(e == "*" or e == event["type"] for e in self.enabled_events)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "callable": self.target is not None,
            "enabled_events": list(self.enabled_events),
            "connect": self.connect,
        }


@dataclass
class Delivery:
    endpoint_id: str
    event_id: str
    payload: bytes
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)  # event ids, in delivery order
    failed: list[str] = field(default_factory=list)
    pending: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed, "pending": self.pending}


class WebhookDispatcher:
    """Queues signed deliveries and sends them on demand or in the background."""

    def __init__(
        self,
        clock: Callable[[], int],
        *,
        duplicate: bool = False,
        shuffle: bool = False,
        seed: int | None = None,
        max_attempts: int = 10,
        http_timeout: float = 5.0,
    ):
        self.clock = clock
        self.duplicate = duplicate
        self.shuffle = shuffle
        self.max_attempts = max_attempts
        self.http_timeout = http_timeout
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.pending: list[Delivery] = []
        self.dead: list[Delivery] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- configuration ---------------------------------------------------------
    def add_endpoint(
        self,
        *,
        secret: str,
        url: str | None = None,
        target: Target | None = None,
        enabled_events: tuple[str, ...] = ("*",),
        connect: bool = True,
    ) -> WebhookEndpoint:
        if (url is None) == (target is None):
            raise ValueError("give exactly one of url or target")
        if not secret.startswith("whsec_"):
            raise ValueError("webhook signing secrets start with whsec_")
        with self._lock:
            endpoint = WebhookEndpoint(
                f"we_{len(self.endpoints) + 1:06d}", secret, url, target, tuple(enabled_events), connect
            )
            self.endpoints[endpoint.id] = endpoint
            return endpoint

    def remove_endpoints(self) -> None:
        with self._lock:
            self.endpoints.clear()
            self.pending.clear()

    # -- queueing ---------------------------------------------------------------
    def enqueue(self, event: dict[str, Any]) -> int:
        """Queue ``event`` for every interested endpoint; returns how many."""
        payload = json.dumps(event, indent=2).encode()
        with self._lock:
            targets = [e for e in self.endpoints.values() if e.wants(event)]
            self.pending.extend(Delivery(e.id, event["id"], payload) for e in targets)
            return len(targets)

    def clear_pending(self) -> None:
        with self._lock:
            self.pending.clear()
            self.dead.clear()

    # -- delivery ---------------------------------------------------------------
    def deliver_pending(self, *, duplicate: bool | None = None, shuffle: bool | None = None) -> DeliveryReport:
        """One pass over the queue; failures stay queued for the next pass."""
        duplicate = self.duplicate if duplicate is None else duplicate
        shuffle = self.shuffle if shuffle is None else shuffle
        report = DeliveryReport()
        with self._deliver_lock:
            with self._lock:
                batch, self.pending = self.pending, []
                if shuffle:
                    self._random.shuffle(batch)
            retry: list[Delivery] = []
            for delivery in batch:
                endpoint = self.endpoints.get(delivery.endpoint_id)
                if endpoint is None:
                    continue
                # every attempt is made (a duplicate is delivered even when the first delivery failed)
                attempts = [self._attempt(endpoint, delivery) for _ in range(2 if duplicate else 1)]
                ok = all(attempts)
                if ok:
                    report.delivered.append(delivery.event_id)
                else:
                    report.failed.append(delivery.event_id)
                    (self.dead if delivery.attempts >= self.max_attempts else retry).append(delivery)
            with self._lock:
                self.pending[:0] = retry
                report.pending = len(self.pending)
        return report

    def _attempt(self, endpoint: WebhookEndpoint, delivery: Delivery) -> bool:
        delivery.attempts += 1
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) emulator",
            "Stripe-Signature": sign(delivery.payload, endpoint.secret, int(self.clock())),
        }
        try:
            status = (
                endpoint.target(delivery.payload, headers)
                if endpoint.target
                else self._post(endpoint.url or "", delivery.payload, headers)
            )
        except (OSError, urllib.error.URLError) as exc:
            delivery.last_status, delivery.last_error = None, str(exc)
            return False
        delivery.last_status, delivery.last_error = status, None
        return 200 <= status < 300

    def _post(self, url: str, payload: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.http_timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    # -- background mode ----------------------------------------------------------
    def start_background(self, interval: float = 1.0) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.deliver_pending()
                except Exception:  # keep delivering; never kill the server
                    log.exception("webhook delivery pass failed")

        self._thread = threading.Thread(target=loop, name="stripe-emulator-webhooks", daemon=True)
        self._thread.start()

    def stop_background(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
