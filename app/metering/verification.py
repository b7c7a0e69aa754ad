"""What a receipt proves: its signature (platform keys), the use it records, and the
licence it was recorded under — including whether that licence is live *now*."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from app.db import UnitOfWork
from app.marketplace.models import Licence
from ledger.canonical import iso_utc

from . import receipts
from .models import UsageEvent

REASON_TEXT = {
    "ok": "The signature is the platform's.",
    "malformed": "This is not a Cameo Exchange receipt.",
    "unknown_key": "The receipt names a key the platform never published.",
    "bad_signature": "The signature does not match: the receipt has been altered or forged.",
}


def licence_terms(licence: Licence, now: datetime) -> dict[str, Any]:
    live = licence.status == "active" and licence.term_start <= now < licence.ends_at
    return {
        "id": licence.id,
        "status": licence.status,
        "live": live,
        "cameo_id": licence.cameo_id,
        "brand_org_id": licence.brand_org_id,
        "contract_sha256": licence.contract_sha256,
        "term_start": iso_utc(licence.term_start),
        "term_end": iso_utc(licence.term_end),
        "ends_at": iso_utc(licence.ends_at),
        "media": list(licence.media),
        "territories": list(licence.territories),
        "usage_cap": licence.usage_cap,
        "per_use_royalty": {"amount_minor": licence.per_use_royalty_minor, "currency": licence.currency},
        "intended_use": licence.intended_use,
    }


def verify_receipt(uow: UnitOfWork, keys: receipts.KeyStore, token: str, now: datetime) -> dict[str, Any]:
    checked = receipts.check(token, keys.public_key)
    result: dict[str, Any] = {
        "valid": checked.valid,
        "reason": checked.reason,
        "message": REASON_TEXT[checked.reason],
        "licensed": False,
        "licence_live": False,
        "recorded": False,
        "checked_at": iso_utc(now),
        "receipt": checked.payload if checked.valid else None,
        "licence": None,
    }
    if not checked.valid:
        return result
    payload = checked.payload or {}
    result["recorded"] = _recorded(uow, payload, token.strip())
    licence = uow.session.get(Licence, payload["licence_id"]) if isinstance(payload.get("licence_id"), int) else None
    result["licensed"] = True  # the platform signed that this use was accepted under the licence
    if licence is not None:
        result["licence"] = licence_terms(licence, now)
        result["licence_live"] = result["licence"]["live"]
        result["contract_matches"] = licence.contract_sha256 == payload.get("licence_contract_sha256")
    return result


def _recorded(uow: UnitOfWork, payload: dict[str, Any], token: str) -> bool:
    """Whether the platform holds this very receipt for the use it names (brand, event id)."""
    brand, event_id = payload.get("brand_org_id"), payload.get("event_id")
    if not isinstance(brand, int) or not isinstance(event_id, str):
        return False
    stored = uow.session.exec(
        select(UsageEvent.receipt_token).where(UsageEvent.brand_org_id == brand, UsageEvent.event_id == event_id)
    ).first()
    return stored == token
