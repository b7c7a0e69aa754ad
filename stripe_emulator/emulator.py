"""The :class:`Emulator`: a stateful, contract-checked local Stripe.

One object holds everything — the books (:mod:`.state`), stored idempotent
responses, armed faults, the request log and the webhook dispatcher — behind
one re-entrant lock. It knows nothing of HTTP: :mod:`.wsgi` routes requests to
the control API (:mod:`.control`) or to Stripe's API (:mod:`.stripe_api`), each of
which is handed this object. The control operations are plain methods here for
in-process tests.

Nothing happens at import. The clock is injectable (``clock() -> int`` epoch
seconds) and drives ``created`` timestamps and webhook signature timestamps.
Without a spec the emulator still serves, but logs loudly that contract checks
are OFF and says so in :attr:`contract_checks_enabled`.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import StripeError
from .faults import FaultPlan, FaultRule, WriteRateLimiter
from .idempotency import IdempotencyStore
from .resources import balance
from .resources.accounts import (
    DEFAULT_RESTRICTION_DUE,
    close_account,
    complete_onboarding,
    reject_account,
    restrict_account,
)
from .resources.checkout import pay_checkout_session
from .resources.common import Context, public_copy
from .resources.payments import add_platform_funds, open_dispute
from .spec import OpenAPISpec, load_spec, locate_spec
from .state import AccountBook, Clock, IdFactory, Store
from .validation import ContractChecker
from .webhooks import DeliveryReport, Target, WebhookDispatcher, WebhookEndpoint

log = logging.getLogger(__name__)

AUTO = "auto"
RESPONSE_CHECK_MODES = ("off", "log", "raise")


class ContractViolation(AssertionError):
    """The emulator produced a response that does not match Stripe's spec."""


class Emulator:
    """A local, stateful Stripe. No real money moves; only ``sk_test_`` keys work."""

    def __init__(
        self,
        *,
        spec: OpenAPISpec | Path | str | None = AUTO,
        clock: Clock | None = None,
        seed: int | None = None,
        state_file: Path | str | None = None,
        write_rate_limit: int | None = None,
        check_responses: str = "log",
        public_url: str | None = None,
        webhook_duplicate: bool = False,
        webhook_shuffle: bool = False,
        available_delay: int = balance.DEFAULT_AVAILABLE_DELAY,
    ):
        if check_responses not in RESPONSE_CHECK_MODES:
            raise ValueError(f"check_responses must be one of {RESPONSE_CHECK_MODES}")
        self.spec = _resolve_spec(spec)
        self.checker = ContractChecker(self.spec) if self.spec is not None else None
        self.api_version = self.spec.version if self.spec is not None else "2024-04-10"
        self.clock: Clock = clock or (lambda: int(time.time()))
        self.ids = IdFactory(seed)
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.store = Store.load(self.state_file) if self.state_file and self.state_file.exists() else Store()
        self.idempotency = IdempotencyStore()
        self.faults = FaultPlan()
        self.rate_limiter = WriteRateLimiter(write_rate_limit)
        self.check_responses = check_responses
        self.contract_violations: list[str] = []
        self.public_url = public_url
        self.available_delay = self._checked_delay(available_delay)
        self.webhooks = WebhookDispatcher(self.clock, duplicate=webhook_duplicate, shuffle=webhook_shuffle, seed=seed)
        self._request_log: list[dict[str, Any]] = []
        self._release_holds = threading.Event()
        if self.spec is None:
            log.warning(
                "!!! Stripe OpenAPI spec not found: CONTRACT CHECKS ARE OFF. Requests are "
                "not validated against Stripe's API. Set STRIPE_OPENAPI_SPEC or install npm."
            )

    # -- facts -----------------------------------------------------------------
    @property
    def contract_checks_enabled(self) -> bool:
        return self.spec is not None

    @property
    def spec_source(self) -> Path | None:
        return self.spec.source if self.spec is not None else None

    @property
    def platform_account_id(self) -> str:
        return self.store.platform_id

    # -- plumbing used by stripe_api / control ------------------------------------
    def context(self, base_url: str | None = None, request: dict[str, Any] | None = None) -> Context:
        """The world an operation acts on, with every fund due by now made available (hold the lock)."""
        base = (base_url or self.public_url or "http://stripe-emulator.invalid").rstrip("/")
        ctx = Context(
            self.store, self.clock, self.ids, base, self._on_event, request, available_delay=self.available_delay
        )
        balance.mature(self.store, ctx.now())
        return ctx

    def _on_event(self, event: dict[str, Any]) -> None:
        self.webhooks.enqueue(event)

    def book_for(self, account_header: str | None) -> AccountBook:
        if not account_header:
            return self.store.platform
        book = self.store.book(account_header)
        account = self.store.platform.get(account_header, "account")
        if book is None or account is None or account.get("_closed"):
            raise StripeError(
                f"The provided key does not have access to account '{account_header}' "
                "(or that account does not exist).",
                status=403,
                code="account_invalid",
            )
        return book

    def log_request(self, record: dict[str, Any]) -> None:
        with self.lock:
            self._request_log.append(record)

    def hold(self, seconds: float) -> None:
        """Hold a response (``timeout`` fault); released early by :meth:`release_holds`."""
        self._release_holds.wait(seconds)

    def release_holds(self) -> None:
        self._release_holds.set()

    def persist(self) -> None:
        if self.state_file is not None:
            self.store.save(self.state_file)

    def check_response(self, op, method: str, path: str, status: int, body: Any) -> None:
        if self.check_responses == "off" or self.checker is None:
            return
        problems = self.checker.response_errors(op, status, body)
        if not problems:
            return
        message = f"{method} {path} → {status}: " + "; ".join(problems[:5])
        with self.lock:
            self.contract_violations.append(message)
        log.error("emulator response violates Stripe's spec: %s", message)
        if self.check_responses == "raise":
            raise ContractViolation(message)

    def _run(self, operation: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """Run a control operation under the lock; returns a public copy."""
        with self.lock:
            result = operation(self.context(), *args)
            self.persist()
            return public_copy(result)

    # -- Python control API (mirrored under /_emulator/...) -------------------------
    def reset(self) -> None:
        """Forget all state, stored idempotent responses, faults, requests and queued webhooks."""
        with self.lock:
            self.store = Store()
            self.idempotency.clear()
            self.faults.clear()
            self._request_log.clear()
            self.contract_violations.clear()
            self.webhooks.clear_pending()
            self.persist()

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        return self._run(complete_onboarding, account_id)

    def reject_account(self, account_id: str, reason: str = "fraud") -> dict[str, Any]:
        """Permanent refusal: transfers to the account fail with ``transfers_not_allowed``."""
        return self._run(reject_account, account_id, reason)

    def restrict_account(
        self,
        account_id: str,
        disabled_reason: str = "requirements.past_due",
        currently_due: tuple[str, ...] = DEFAULT_RESTRICTION_DUE,
    ) -> dict[str, Any]:
        """Payouts disabled until onboarding completes again: transfers fail with
        ``insufficient_capabilities_for_transfer``; ``account.updated`` is emitted."""
        return self._run(restrict_account, account_id, disabled_reason, tuple(currently_due))

    def close_account(self, account_id: str) -> dict[str, Any]:
        """The account is gone: transfers to it fail with ``account_invalid``."""
        return self._run(close_account, account_id)

    def pay_checkout_session(self, session_id: str) -> dict[str, Any]:
        return self._run(pay_checkout_session, session_id)

    def open_dispute(self, charge_or_payment_intent_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        return self._run(open_dispute, charge_or_payment_intent_id, reason)

    def add_platform_funds(self, amount: int, currency: str = "usd") -> dict[str, Any]:
        """A bypass-pending charge on the platform; available grows by amount − fee."""
        return self._run(add_platform_funds, int(amount), currency)

    def inject_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        count: int = 1,
        seconds: float = 0.0,
    ) -> FaultRule:
        return self.faults.add(kind, method=method, path_prefix=path_prefix, count=count, seconds=seconds)

    def list_faults(self) -> list[dict[str, Any]]:
        return self.faults.list()

    def clear_faults(self) -> None:
        self.faults.clear()

    def requests(self, method: str | None = None, path_prefix: str | None = None) -> list[dict[str, Any]]:
        """The Stripe API requests received, oldest first (copies)."""
        with self.lock:
            return [
                copy.deepcopy(r)
                for r in self._request_log
                if (method is None or r["method"] == method.upper())
                and (path_prefix is None or r["path"].startswith(path_prefix))
            ]

    def clear_requests(self) -> None:
        with self.lock:
            self._request_log.clear()

    def add_webhook_endpoint(
        self,
        secret: str,
        *,
        url: str | None = None,
        target: Target | None = None,
        enabled_events: tuple[str, ...] = ("*",),
        connect: bool = True,
    ) -> WebhookEndpoint:
        return self.webhooks.add_endpoint(
            secret=secret, url=url, target=target, enabled_events=enabled_events, connect=connect
        )

    def deliver_pending(self, *, duplicate: bool | None = None, shuffle: bool | None = None) -> DeliveryReport:
        return self.webhooks.deliver_pending(duplicate=duplicate, shuffle=shuffle)

    def set_write_rate_limit(self, per_second: int | None) -> None:
        self.rate_limiter.per_second = per_second

    def set_available_delay(self, seconds: int) -> None:
        """How long card charges made from now on stay pending (emulator clock seconds)."""
        with self.lock:
            self.available_delay = self._checked_delay(seconds)

    def release_pending_funds(self, account: str | None = None) -> int:
        """Every pending fund (of one account, or all) becomes available now; returns how many."""
        with self.lock:
            released = balance.release(self.store, int(self.clock()), account)
            self.persist()
            return released

    @staticmethod
    def _checked_delay(seconds: int) -> int:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise ValueError("available_delay is a whole number of seconds, 0 or more")
        return seconds

    # -- inspection -------------------------------------------------------------------
    def objects(self, object_type: str, account: str | None = None) -> list[dict[str, Any]]:
        """Public copies of one type of object in an account's book, newest first."""
        with self.lock:
            book = self.store.book(account)
            return [public_copy(o) for o in book.newest_first(object_type)] if book else []

    def get_object(self, object_id: str) -> dict[str, Any] | None:
        with self.lock:
            hit = self.store.find_anywhere(object_id)
            return public_copy(hit[1]) if hit else None

    def available_balance(self, currency: str = "usd", account: str | None = None) -> int:
        with self.lock:
            self.context()  # funds due by now count as available
            book = self.store.book(account)
            return book.available.get(currency.lower(), 0) if book else 0

    def pending_balance(self, currency: str = "usd", account: str | None = None) -> int:
        with self.lock:
            self.context()
            book = self.store.book(account)
            return book.pending.get(currency.lower(), 0) if book else 0

    def events(self, account: str | None = None, type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.objects("event", account) if type is None or e["type"] == type]

    def status(self) -> dict[str, Any]:
        return {
            "emulator": "local Stripe emulator — no real money",
            "contract_checks_enabled": self.contract_checks_enabled,
            "spec": str(self.spec_source) if self.spec_source else None,
            "api_version": self.api_version,
            "platform_account": self.platform_account_id,
            "write_rate_limit": self.rate_limiter.per_second,
            "available_delay_seconds": self.available_delay,
            "contract_violations": list(self.contract_violations),
        }


def _resolve_spec(spec: OpenAPISpec | Path | str | None) -> OpenAPISpec | None:
    if spec is None or isinstance(spec, OpenAPISpec):
        return spec
    path = locate_spec() if spec == AUTO else Path(spec)
    return load_spec(path) if path is not None else None
