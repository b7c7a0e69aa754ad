"""JWS compact serialization with EdDSA (RFC 7515, RFC 8037) — exactly the subset the
platform writes (docs/formats/keys.md, "Signed documents").

``BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)``; the signature
is Ed25519 over the ASCII of the first two parts joined by ``.``, as RFC 7515 §5.1
says, so any JOSE library verifies these files.  The protected header is
``{"alg": "EdDSA", "kid": …, "typ": …}``; ``crit``, ``b64: false`` and every other
extension are refused rather than ignored.  The payload is a JSON object that repeats
the ``kid`` and claims a time; the key must be valid for the document's purpose at
that time (see :mod:`cameo_verify.keys`).
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature

from .encoding import Invalid, b64url_decode, json_object, parse_time
from .keys import KeySet

ALLOWED_HEADER = {"alg", "kid", "typ"}


def open_signed(token: bytes | str, keys: KeySet, *, typ: str, use: str, time_field: str) -> dict[str, Any]:
    """The payload of a JWS whose signature, type and key validity check out."""
    try:
        text = token.decode("ascii").strip() if isinstance(token, bytes) else token.strip()
    except UnicodeDecodeError:
        raise Invalid("not a JWS compact serialization") from None
    parts = text.split(".")
    if len(parts) != 3:
        raise Invalid("not a JWS compact serialization (three base64url parts)")
    header = json_object(b64url_decode(parts[0], what="the JWS header"), "the JWS header")
    if set(header) - ALLOWED_HEADER:
        raise Invalid(f"the JWS header has {', '.join(sorted(set(header) - ALLOWED_HEADER))}, which is not allowed")
    if header.get("alg") != "EdDSA":
        raise Invalid(f"the JWS algorithm is {header.get('alg')!r}, not EdDSA")
    if header.get("typ") != typ:
        raise Invalid(f"the JWS type is {header.get('typ')!r}, not {typ}")
    payload = json_object(b64url_decode(parts[1], what="the JWS payload"), "the JWS payload")
    if payload.get("kid") != header.get("kid"):
        raise Invalid("the payload's kid differs from the JWS header's")
    when = parse_time(payload.get(time_field), time_field)
    key = keys.key_for(header.get("kid"), use, when)
    signature = b64url_decode(parts[2], what="the JWS signature")
    try:
        key.public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise Invalid(f"the signature does not verify with key {key.kid}") from None
    return payload


def payload_bytes(token: bytes | str) -> bytes:
    """The raw payload of a JWS (after :func:`open_signed` accepted it)."""
    text = token.decode("ascii") if isinstance(token, bytes) else token
    return b64url_decode(text.strip().split(".")[1], what="the JWS payload")
