"""Receipts inside the media file: a C2PA manifest (c2pa-python) carrying

* ``org.cameo-exchange.likeness-licence`` — the platform-signed usage receipt and the
  licence it was issued under (what was licensed, to whom, for which content), and
* ``cawg.training-mining`` — the CAWG training-and-data-mining assertion: a licensed
  likeness may be *used*, not learned from (AI training, generative training, data
  mining and inference all ``notAllowed``).

The C2PA claim itself is signed with an X.509 certificate (ES256 by default) — the
media's provenance; the receipt inside it is signed with the platform's Ed25519 key —
the licence's proof.  ``verify_media`` checks both.  c2pa is imported lazily so the
rest of the app never needs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import receipts

LICENCE_LABEL = "org.cameo-exchange.likeness-licence"
TRAINING_LABEL = "cawg.training-mining"
NOT_ALLOWED = {"use": "notAllowed"}
TRAINING_ENTRIES = dict.fromkeys(
    ("cawg.ai_generative_training", "cawg.ai_training", "cawg.ai_inference", "cawg.data_mining"), NOT_ALLOWED
)
C2PA_OK_STATES = ("Valid", "Trusted")


def manifest_for(receipt: str, *, title: str, generator_version: str = "0.1.0") -> dict[str, Any]:
    payload = receipts.unverified_payload(receipt)
    if payload is None:
        raise ValueError("that is not a Cameo Exchange receipt")
    licence = {
        key: payload.get(key)
        for key in (
            "receipt_id",
            "event_id",
            "licence_id",
            "licence_contract_sha256",
            "brand_org_id",
            "cameo_id",
            "kind",
            "occurred_at",
            "kid",
        )
    }
    return {
        "claim_generator_info": [{"name": "cameo-exchange", "version": generator_version}],
        "title": title,
        "assertions": [
            {
                "label": LICENCE_LABEL,
                "data": {"receipt": receipt, "licence": licence, "keys": "/.well-known/cameo-receipt-keys.json"},
            },
            {"label": TRAINING_LABEL, "data": {"entries": TRAINING_ENTRIES}},
        ],
    }


def sign_media(
    source: Path, dest: Path, receipt: str, *, cert_chain_pem: bytes, key_pem: bytes, alg: str = "ES256"
) -> None:
    """Write ``dest``: ``source`` with a C2PA manifest embedding ``receipt``."""
    import c2pa

    info = c2pa.C2paSignerInfo(
        alg=getattr(c2pa.C2paSigningAlg, alg.upper()), sign_cert=cert_chain_pem, private_key=key_pem, ta_url=None
    )
    manifest = manifest_for(receipt, title=Path(source).name)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(json.dumps(manifest)) as builder:
        builder.set_intent(c2pa.C2paBuilderIntent.EDIT)  # the source image is the parent ingredient
        builder.sign_file(str(source), str(dest), signer)


@dataclass
class MediaCheck:
    has_manifest: bool = False
    c2pa_state: str | None = None  # Valid / Trusted / Invalid from the C2PA validator
    c2pa_failures: list[str] = field(default_factory=list)
    receipt: str | None = None
    receipt_check: receipts.Checked | None = None
    training_mining: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """The manifest is intact and the receipt is the platform's.  An untrusted
        signing certificate alone does not fail it: trust in the C2PA signer is a
        policy of the reader; the licence proof is the platform's receipt signature."""
        integrity = [f for f in self.c2pa_failures if f != "signingCredential.untrusted"]
        return (
            self.has_manifest
            and self.c2pa_state in C2PA_OK_STATES + ("Invalid",)
            and not integrity
            and self.receipt_check is not None
            and self.receipt_check.valid
        )


def verify_media(path: Path, public_key: Callable[[str], Any]) -> MediaCheck:
    import c2pa

    result = MediaCheck()
    try:
        reader = c2pa.Reader(str(path))
    except c2pa.C2paError:
        return result
    with reader:
        manifest = reader.get_active_manifest()
        result.has_manifest = manifest is not None
        result.c2pa_state = reader.get_validation_state()
        validation = reader.get_validation_results() or {}
    failures = (validation.get("activeManifest") or {}).get("failure") or []
    result.c2pa_failures = [f.get("code", "") for f in failures]
    for assertion in (manifest or {}).get("assertions", []):
        if assertion.get("label") == LICENCE_LABEL:
            result.receipt = (assertion.get("data") or {}).get("receipt")
        elif assertion.get("label") == TRAINING_LABEL:
            result.training_mining = (assertion.get("data") or {}).get("entries")
    if isinstance(result.receipt, str):
        result.receipt_check = receipts.check(result.receipt, public_key)
    return result
