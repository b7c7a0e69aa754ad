"""Idempotent requests, the way Stripe keeps them.

Keys are scoped per (account, ``Idempotency-Key``). The first response of a
request that *started executing* is stored — success or error, e.g.
``balance_insufficient`` — and replayed byte for byte, with
``Idempotent-Replayed: true``, to every later request with the same key and the
same method, path and parameters. The same key with anything different is
``idempotency_error`` (400). Requests rejected before executing (contract
violations, auth, injected 500/429, rate limit) store nothing, so a retry after
them runs for real. A second request arriving while the first is still running
gets 409 ``idempotency_key_in_use`` (the SDK retries 409s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import StripeError


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    return json.dumps([method.upper(), path, params], sort_keys=True, default=str)


class IdempotencyStore:
    """Stored responses and in-flight keys. Callers hold the emulator's lock."""

    def __init__(self) -> None:
        self._responses: dict[tuple[str, str], StoredResponse] = {}
        self._in_flight: set[tuple[str, str]] = set()

    def begin(self, scope: tuple[str, str], print_: str) -> StoredResponse | None:
        """The response to replay, or ``None`` after marking the key in flight."""
        stored = self._responses.get(scope)
        if stored is not None:
            if stored.fingerprint != print_:
                raise StripeError(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{scope[1]}' if "
                    "you meant to execute a different request.",
                    type="idempotency_error",
                )
            return stored
        if scope in self._in_flight:
            raise StripeError(
                "There is currently another in-progress request using this Stripe-Account, "
                "Idempotency-Key. Try again later.",
                status=409,
                code="idempotency_key_in_use",
                headers={"Stripe-Should-Retry": "true"},
            )
        self._in_flight.add(scope)
        return None

    def finish(self, scope: tuple[str, str], print_: str, status: int, body: bytes) -> None:
        self._in_flight.discard(scope)
        self._responses[scope] = StoredResponse(print_, status, body)

    def abandon(self, scope: tuple[str, str]) -> None:
        self._in_flight.discard(scope)

    def clear(self) -> None:
        self._responses.clear()
        self._in_flight.clear()

    def __len__(self) -> int:
        return len(self._responses)
