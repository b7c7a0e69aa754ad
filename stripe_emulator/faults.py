"""Fault injection and the optional write rate limit.

A :class:`FaultRule` applies to the next ``count`` Stripe API requests whose
method and path prefix match. Kinds:

``error_500``
    answered 500 ``api_error`` before anything executes (nothing stored);
``rate_limit``
    answered 429 ``rate_limit`` with ``Stripe-Should-Retry: true`` (nothing stored);
``timeout``
    executed and stored normally, then the response is held ``seconds`` before
    it is sent — a client with a shorter timeout gives up and retries;
``lost_response``
    executed and stored for idempotent replay, then the connection is dropped
    without a response — the classic "did my transfer happen?" case.

:class:`WriteRateLimiter` answers 429 to POST/DELETE requests beyond N per
rolling second (``--write-rate-limit``), for the settlement benchmark.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

FAULT_KINDS = ("error_500", "rate_limit", "timeout", "lost_response")


@dataclass
class FaultRule:
    id: int
    kind: str
    method: str | None = None
    path_prefix: str | None = None
    remaining: int = 1
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method.upper() == method.upper())
            and (self.path_prefix is None or path.startswith(self.path_prefix))
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """The armed faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(
        self,
        kind: str,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        count: int = 1,
        seconds: float = 0.0,
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            rule = FaultRule(self._next_id, kind, method, path_prefix, count, float(seconds))
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule, consuming one of its uses."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
            return None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


class WriteRateLimiter:
    """At most ``per_second`` writes in any rolling second (``None`` = unlimited)."""

    def __init__(self, per_second: int | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.per_second = per_second
        self._monotonic = monotonic
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        if not self.per_second:
            return True
        with self._lock:
            now = self._monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.per_second:
                return False
            self._recent.append(now)
            return True
