"""Consent evidence and objections (docs/formats/archive.md): documents whose integrity
the manifest gives; the verifier checks their form, the statement text's hash and that
an objection names a receipt the archive holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .encoding import Invalid, field, hex64, is_int, parse_time, sha256_hex
from .receipts import Receipt

CONSENT_TYPE = "cameo-exchange/consent"
OBJECTION_TYPE = "cameo-exchange/objection"
OBJECTION_STATUSES = ("open", "upheld", "dismissed", "withdrawn")
PARTY = re.compile(r"(creator|brand):\d+")


def check_consent(cameo_id: int, consent_id: int, document: Any, statement_text: bytes) -> None:
    if not isinstance(document, dict) or document.get("typ") != CONSENT_TYPE or document.get("v") != 1:
        raise Invalid(f"not a {CONSENT_TYPE} of version 1")
    if document.get("cameo_id") != cameo_id or document.get("consent_id") != consent_id:
        raise Invalid(f"the document is not consent {consent_id} of cameo {cameo_id}")
    if hex64(document.get("statement_sha256"), "statement_sha256") != sha256_hex(statement_text):
        raise Invalid("the consent statement's text does not match its sha256")
    hex64(document.get("recording_sha256"), "recording_sha256")
    owners = field(document, "owners", list, "the consent")
    if (
        not owners
        or not all(
            isinstance(o, dict) and is_int(o.get("user_id")) and is_int(o.get("share_bps")) and o["share_bps"] > 0
            for o in owners
        )
        or sum(o["share_bps"] for o in owners) != 10_000
    ):
        raise Invalid("owners must be [{user_id, share_bps}] with shares adding up to 10000")
    for name in ("ip_hash", "withdrawn_ip_hash"):
        if document.get(name) is not None:
            hex64(document[name], name)
    if not isinstance(document.get("recording_content_type"), str) or not is_int(document.get("recording_size")):
        raise Invalid("recording_content_type and recording_size are required")
    signed_at = parse_time(document.get("signed_at"), "signed_at")
    if document.get("withdrawn_at") is not None and parse_time(document["withdrawn_at"], "withdrawn_at") < signed_at:
        raise Invalid("consent withdrawn before it was given")


def check_objection(objection_id: str, document: Any, receipts: Mapping[str, Receipt]) -> None:
    if not isinstance(document, dict) or document.get("typ") != OBJECTION_TYPE or document.get("v") != 1:
        raise Invalid(f"not a {OBJECTION_TYPE} of version 1")
    if document.get("objection_id") != objection_id:
        raise Invalid(f"the document is not objection {objection_id}")
    licence_id = field(document, "licence_id", int, "the objection")
    if not PARTY.fullmatch(field(document, "raised_by", str, "the objection")):
        raise Invalid("raised_by must be creator:<id> or brand:<id>")
    raised_at = parse_time(document.get("raised_at"), "raised_at")
    field(document, "reason", str, "the objection")
    if document.get("status") not in OBJECTION_STATUSES:
        raise Invalid(f"status must be one of {', '.join(OBJECTION_STATUSES)}")
    if (document["status"] == "open") != (document.get("resolved_at") is None):
        raise Invalid("an objection has resolved_at exactly when it is no longer open")
    if document.get("resolved_at") is not None and parse_time(document["resolved_at"], "resolved_at") < raised_at:
        raise Invalid("resolved before it was raised")
    receipt_id = document.get("receipt_id")
    if receipt_id is not None:
        receipt = receipts.get(receipt_id)
        if receipt is None:
            raise Invalid(f"it names receipt {receipt_id}, which is not in the archive")
        if receipt.payload.get("licence_id") != licence_id:
            raise Invalid(f"receipt {receipt_id} is not of licence {licence_id}")
