"""Stripe's error envelope as a Python exception.

Every failure the emulator reports to a client — contract violations, missing
objects, ``balance_insufficient``, idempotency conflicts — is raised as a
:class:`StripeError` and rendered once, by the server, as Stripe renders it::

    {"error": {"type": "invalid_request_error", "message": "...", "param": "amount"}}
"""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An API error with Stripe's HTTP status, type, code and offending param."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an id that does not exist on the calling account."""
    return StripeError(f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param)
