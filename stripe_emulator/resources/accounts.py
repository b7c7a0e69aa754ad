"""Connect accounts and account links (onboarding).

A connected account starts with onboarding incomplete — ``charges_enabled`` and
``payouts_enabled`` false, ``requirements.currently_due`` non-empty, the
``transfers`` capability inactive — exactly what a platform sees before a creator
has filled Stripe's hosted form. An account link points at the emulator's own
page ``/_emulator/onboard/<acct>``; submitting it runs
:func:`complete_onboarding`, which flips the account to enabled and emits the
Connect event ``account.updated`` (with ``account`` set) — the signal the
project waits for before paying anyone.
"""

from __future__ import annotations

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
    capabilities = {name: "inactive" for name in (params.get("capabilities") or {"transfers": {}})}
    account = call.book.add({
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
    })
    ctx.store.open_book(account["id"])
    return render(call, account)


def connected_account(ctx: Context, account_id: str) -> dict[str, Any]:
    account = ctx.store.platform.get(account_id, "account")
    if account is None:
        raise missing("account", account_id, "account")
    return account


@route("get", "/v1/accounts")
def list_accounts(call: Call) -> dict[str, Any]:
    return render(call, list_page(call, call.book.newest_first("account"), "/v1/accounts"))


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
        return {"id": call.book.id, "object": "account", "type": "standard",
                "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
                "country": "US", "default_currency": "usd", "email": None, "metadata": {}}
    return render(call, connected_account(call.ctx, call.book.id))


@route("post", "/v1/account_links")
def create_account_link(call: Call) -> dict[str, Any]:
    ctx, params = call.ctx, call.params
    account = connected_account(ctx, params["account"])
    link_id = ctx.ids.new("emulink")
    call.book.add({"id": link_id, "object": "_account_link", "created": ctx.now(),
                   "_return_url": params.get("return_url"),
                   "_refresh_url": params.get("refresh_url")})
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


def complete_onboarding(ctx: Context, account_id: str) -> dict[str, Any]:
    """What a creator finishing Stripe's hosted onboarding does to the account."""
    account = connected_account(ctx, account_id)
    previous = {key: account[key] for key in
                ("charges_enabled", "payouts_enabled", "details_submitted", "requirements", "capabilities")}
    account.update(
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements=_requirements([]),
        capabilities={name: "active" for name in account["capabilities"]},
    )
    ctx.emit(ctx.store.open_book(account_id), "account.updated", account, previous)
    return account
