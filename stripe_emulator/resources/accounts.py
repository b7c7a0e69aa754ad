"""Connect accounts and account links (onboarding).

A connected account starts with onboarding incomplete — ``charges_enabled`` and
``payouts_enabled`` false, ``requirements.currently_due`` non-empty, the
``transfers`` capability inactive — exactly what a platform sees before a creator
has filled Stripe's hosted form. An account link points at the emulator's own
page ``/_emulator/onboard/<acct>``; submitting it runs
:func:`complete_onboarding`, which flips the account to enabled and emits the
Connect event ``account.updated`` (with ``account`` set) — the signal the
project waits for before paying anyone.

Accounts can also stop taking money, permanently or until their owner acts; a
transfer to one is refused the way Stripe refuses it (HTTP 400):

==============  ===================================================  ======================================
state           how                                                  a transfer to it
==============  ===================================================  ======================================
closed          ``DELETE /v1/accounts/{id}`` (or :func:`close_account`)  ``account_invalid``
rejected        ``POST /v1/accounts/{id}/reject`` ``reason``         ``transfers_not_allowed``
restricted      :func:`restrict_account` (Stripe's own doing:        ``insufficient_capabilities_for_transfer``
                requirements past due, under review, …)
==============  ===================================================  ======================================

Rejecting and restricting emit ``account.updated`` (``payouts_enabled`` false,
``requirements.disabled_reason`` set, the ``transfers`` capability inactive);
completing onboarding lifts a restriction, never a rejection or a closure.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

from ..errors import StripeError, missing
from .common import Call, Context, list_page, metadata_param, render, route

ONBOARDING_FIELDS = [
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
]
LINK_LIFETIME_SECONDS = 300


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


@route("post", "/v1/accounts")
def create_account(call: Call) -> dict[str, Any]:
    params, ctx = call.params, call.ctx
    if call.book.id != ctx.store.platform_id:
        raise StripeError("Connected accounts cannot create accounts.", status=400)
    account_type = params.get("type") or "express"
    capabilities = dict.fromkeys(params.get("capabilities") or {"transfers": {}}, "inactive")
    account = call.book.add(
        {
            "id": ctx.ids.new("acct"),
            "object": "account",
            "business_type": params.get("business_type"),
            "capabilities": capabilities,
            "charges_enabled": False,
            "country": (params.get("country") or "US").upper(),
            "created": ctx.now(),
            "default_currency": (params.get("default_currency") or "usd").lower(),
            "details_submitted": False,
            "email": params.get("email"),
            "metadata": metadata_param(params),
            "payouts_enabled": False,
            "requirements": _requirements(ONBOARDING_FIELDS),
            "type": account_type,
        }
    )
    ctx.store.open_book(account["id"])
    return render(call, account)


REJECT_REASONS = ("fraud", "terms_of_service", "other")
RESTRICTION_REASONS = (
    "action_required.requested_capabilities",
    "requirements.past_due",
    "requirements.pending_verification",
    "listed",
    "platform_paused",
    "under_review",
    "other",
)
DEFAULT_RESTRICTION_DUE = ("individual.verification.document",)


def connected_account(ctx: Context, account_id: str) -> dict[str, Any]:
    """A connected account of the platform (a closed one is gone, as on Stripe)."""
    account = ctx.store.platform.get(account_id, "account")
    if account is None or account.get("_closed"):
        raise missing("account", account_id, "account")
    return account


def transfer_destination(ctx: Context, account_id: str) -> dict[str, Any]:
    """The account a transfer may pay, or Stripe's refusal naming why it may not."""
    account = ctx.store.platform.get(account_id, "account")
    if account is not None and account.get("_closed"):
        raise StripeError(
            f"The destination account {account_id} has been closed and cannot receive transfers.",
            code="account_invalid",
            param="destination",
        )
    account = connected_account(ctx, account_id)
    reason = account["requirements"]["disabled_reason"] or ""
    if reason.startswith("rejected."):
        raise StripeError(
            f"Transfers to {account_id} are not allowed: the account was rejected ({reason}).",
            code="transfers_not_allowed",
            param="destination",
        )
    if account["capabilities"].get("transfers") != "active":
        raise StripeError(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    return account


@route("get", "/v1/accounts")
def list_accounts(call: Call) -> dict[str, Any]:
    open_accounts = (a for a in call.book.newest_first("account") if not a.get("_closed"))
    return render(call, list_page(call, open_accounts, "/v1/accounts"))


@route("get", "/v1/accounts/{account}")
def retrieve_account(call: Call) -> dict[str, Any]:
    return render(call, connected_account(call.ctx, call.path["account"]))


@route("post", "/v1/accounts/{account}")
def update_account(call: Call) -> dict[str, Any]:
    account = connected_account(call.ctx, call.path["account"])
    previous = {"metadata": dict(account["metadata"])}
    account["metadata"] = metadata_param(call.params, account["metadata"])
    if call.params.get("email"):
        previous["email"] = account["email"]
        account["email"] = call.params["email"]
    book = call.ctx.store.open_book(account["id"])
    call.ctx.emit(book, "account.updated", account, previous)
    return render(call, account)


@route("get", "/v1/account")
def retrieve_own_account(call: Call) -> dict[str, Any]:
    if call.book.id == call.ctx.store.platform_id:
        return {
            "id": call.book.id,
            "object": "account",
            "type": "standard",
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "country": "US",
            "default_currency": "usd",
            "email": None,
            "metadata": {},
        }
    return render(call, connected_account(call.ctx, call.book.id))


@route("post", "/v1/account_links")
def create_account_link(call: Call) -> dict[str, Any]:
    ctx, params = call.ctx, call.params
    account = connected_account(ctx, params["account"])
    link_id = ctx.ids.new("emulink")
    call.book.add(
        {
            "id": link_id,
            "object": "_account_link",
            "created": ctx.now(),
            "_return_url": params.get("return_url"),
            "_refresh_url": params.get("refresh_url"),
        }
    )
    query = urlencode({"link": link_id})
    return {
        "object": "account_link",
        "created": ctx.now(),
        "expires_at": ctx.now() + LINK_LIFETIME_SECONDS,
        "url": f"{ctx.base_url}/_emulator/onboard/{account['id']}?{query}",
    }


def link_return_url(ctx: Context, link_id: str | None) -> str | None:
    link = ctx.store.platform.get(link_id or "", "_account_link")
    return link["_return_url"] if link else None


_WATCHED = ("charges_enabled", "payouts_enabled", "details_submitted", "requirements", "capabilities")


def complete_onboarding(ctx: Context, account_id: str) -> dict[str, Any]:
    """What a creator finishing Stripe's hosted onboarding does to the account (lifts a restriction)."""
    account = connected_account(ctx, account_id)
    if (account["requirements"]["disabled_reason"] or "").startswith("rejected."):
        raise StripeError(
            f"Account {account_id} was rejected; onboarding cannot reopen it.", code="account_invalid", param="account"
        )
    previous = {key: copy.deepcopy(account[key]) for key in _WATCHED}
    account.update(
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements=_requirements([]),
        capabilities=dict.fromkeys(account["capabilities"], "active"),
    )
    ctx.emit(ctx.store.open_book(account_id), "account.updated", account, previous)
    return account


def _disable(ctx: Context, account: dict[str, Any], disabled_reason: str, due: list[str]) -> dict[str, Any]:
    previous = {key: copy.deepcopy(account[key]) for key in _WATCHED}
    requirements = _requirements(due)
    requirements["disabled_reason"] = disabled_reason
    account.update(
        charges_enabled=False,
        payouts_enabled=False,
        requirements=requirements,
        capabilities=dict.fromkeys(account["capabilities"], "inactive"),
    )
    changed = {key: value for key, value in previous.items() if value != account[key]}
    ctx.emit(ctx.store.open_book(account["id"]), "account.updated", account, changed)
    return account


def reject_account(ctx: Context, account_id: str, reason: str = "fraud") -> dict[str, Any]:
    """The platform (or Stripe) rejects the account for good: it can never be paid again."""
    if reason not in REJECT_REASONS:
        raise StripeError(f"Invalid reason: must be one of {', '.join(REJECT_REASONS)}", param="reason")
    return _disable(ctx, connected_account(ctx, account_id), f"rejected.{reason}", [])


def restrict_account(
    ctx: Context,
    account_id: str,
    disabled_reason: str = "requirements.past_due",
    currently_due: tuple[str, ...] | list[str] = DEFAULT_RESTRICTION_DUE,
) -> dict[str, Any]:
    """Stripe restricts the account: payouts and transfers stop until its owner completes ``currently_due``."""
    if disabled_reason not in RESTRICTION_REASONS:
        raise StripeError(
            f"Invalid disabled_reason: must be one of {', '.join(RESTRICTION_REASONS)} (rejections go through reject)",
            param="disabled_reason",
        )
    return _disable(ctx, connected_account(ctx, account_id), disabled_reason, list(currently_due))


def close_account(ctx: Context, account_id: str) -> dict[str, Any]:
    """The account is closed (deleted by the platform): gone from the API, transfers refused."""
    account = connected_account(ctx, account_id)
    account.update(_closed=True, charges_enabled=False, payouts_enabled=False)
    return {"id": account_id, "object": "account", "deleted": True}


@route("post", "/v1/accounts/{account}/reject")
def reject_account_route(call: Call) -> dict[str, Any]:
    reason = call.params.get("reason")
    if not reason:
        raise StripeError("Missing required param: reason.", param="reason")
    return render(call, reject_account(call.ctx, call.path["account"], reason))


@route("delete", "/v1/accounts/{account}")
def delete_account(call: Call) -> dict[str, Any]:
    return close_account(call.ctx, call.path["account"])
