"""Usage receipts, versions 1 to 3 (docs/formats/receipts.md).

* v1: ``base64url(payload) "." base64url(signature)`` — Ed25519 over the payload bytes.
* v2: ``base64url(payload) "." base64url(proof) "." base64url(signature)`` — the
  payloads of one report are the leaves of a Merkle tree and one Ed25519 signature
  covers ``"cameo-exchange/receipt-root/v2" 0x00 || root``; ``proof`` leads from the
  receipt's leaf to that root (see :func:`cameo_verify.merkle.root_from_receipt_proof`).
* v3: v2 plus the issuer in the payload (``iss``, the platform's origin, and ``jku``,
  where its key set is published) and its own signing context
  ``"cameo-exchange/receipt-root/v3" 0x00``, so a v3 signature can never pass as v2.

The version is ``payload.v``; two parts must be v1, three parts v2 or v3.  The key is
found by ``kid`` in the key set the caller trusts; it must be a receipts key valid at
the receipt's ``issued_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from .encoding import Invalid, b64url_decode, json_object, parse_time
from .keys import KID, ORIGIN, KeySet
from .merkle import leaf_hash, root_from_receipt_proof

ROOT_CONTEXT = {2: b"cameo-exchange/receipt-root/v2\x00", 3: b"cameo-exchange/receipt-root/v3\x00"}
RECEIPT_TYPE = "cameo-exchange/usage-receipt"


@dataclass(frozen=True)
class Receipt:
    token: str
    version: int
    payload: dict[str, Any]
    root: bytes | None  # the Merkle root the signature covers (v2, v3)

    @property
    def receipt_id(self) -> str | None:
        return self.payload.get("receipt_id")


def verify_receipt(token: str, keys: KeySet) -> Receipt:
    """The receipt, if its signature, proof, issuer and key validity check out; Invalid otherwise."""
    if not isinstance(token, str):
        raise Invalid("a receipt is a string")
    parts = token.strip().split(".")
    if len(parts) not in (2, 3):
        raise Invalid("a receipt has two (v1) or three (v2, v3) base64url parts")
    body = b64url_decode(parts[0], what="the receipt payload")
    signature = b64url_decode(parts[-1], what="the receipt signature")
    payload = json_object(body, "the receipt payload")
    version = payload.get("v")
    if (len(parts) == 2 and version != 1) or (len(parts) == 3 and version not in (2, 3)):
        raise Invalid(f"a receipt of {len(parts)} parts cannot be version {version!r}")
    root = None
    if len(parts) == 3:
        root = root_from_receipt_proof(
            leaf_hash(body), b64url_decode(parts[1], allow_empty=True, what="the receipt proof")
        )
        signed = ROOT_CONTEXT[version] + root
    else:
        signed = body
    kid = payload.get("kid")
    if not isinstance(kid, str) or not KID.fullmatch(kid):
        raise Invalid("the receipt names no valid kid")
    if version == 3:
        _check_v3(payload, keys)
    issued = payload.get("issued_at")
    when = parse_time(issued, "the receipt's issued_at") if issued is not None or version == 3 else None
    key = keys.key_for(kid, "receipts", when)
    try:
        key.public_key.verify(signature, signed)
    except InvalidSignature:
        raise Invalid(f"the receipt's signature does not verify with key {kid}") from None
    return Receipt(token.strip(), version, payload, root)


def _check_v3(payload: dict[str, Any], keys: KeySet) -> None:
    if payload.get("typ") != RECEIPT_TYPE:
        raise Invalid(f"a v3 receipt's typ must be {RECEIPT_TYPE}")
    iss, jku = payload.get("iss"), payload.get("jku")
    if not isinstance(iss, str) or not ORIGIN.fullmatch(iss):
        raise Invalid("a v3 receipt's iss must be an origin like https://cameo.example")
    if not isinstance(jku, str) or not jku.startswith(iss + "/"):
        raise Invalid("a v3 receipt's jku must be a URL on its issuer's origin")
    if keys.issuer is not None and keys.issuer != iss:
        raise Invalid(f"the receipt was issued by {iss}, but the key set is {keys.issuer}'s")
