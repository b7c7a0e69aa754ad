"""The platform's key set with history (docs/formats/keys.md).

Each key is an Ed25519 public key (JWK, ``kty: OKP``, ``crv: Ed25519``) with one
purpose (``use``: receipts, checkpoints, archives or contracts) and a validity window
``[valid_from, retired_at)``.  A signature is accepted only from a key of the right
purpose whose window contains the time the signed document *claims* (its
``issued_at`` or ``attested_at``): a key retired after a leak cannot be used to make
new documents, and everything it signed before keeps verifying.

Today's published receipt keys (``use: "sig"``, no window) are read as receipt keys
valid at all times, so receipts of versions 1 and 2 verify against that file as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .encoding import Invalid, b64url_decode, field, json_object, parse_time

USES = ("receipts", "checkpoints", "archives", "contracts")
LEGACY_USE = "sig"  # the receipt key set published before key history existed
KID = re.compile(r"[a-z0-9-]{1,64}")
ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")


@dataclass(frozen=True)
class Key:
    kid: str
    use: str
    public_key: Ed25519PublicKey
    x: str  # the raw public key, base64url (for comparing two key sets)
    valid_from: datetime | None  # None: a legacy key, valid since ever
    retired_at: datetime | None

    def valid_at(self, when: datetime) -> bool:
        started = self.valid_from is None or self.valid_from <= when
        return started and (self.retired_at is None or when < self.retired_at)


@dataclass(frozen=True)
class KeySet:
    issuer: str | None  # the platform's origin, e.g. https://cameo.example (absent in a legacy set)
    keys: Mapping[str, Key]

    def key_for(self, kid: str, use: str, when: datetime | None) -> Key:
        """The key ``kid`` if it may sign a ``use`` document claiming time ``when``; Invalid otherwise."""
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Invalid(f"signed by key {kid!r}, which is not in the key set")
        if key.use != use:
            raise Invalid(f"key {kid} is a {key.use} key, not a {use} key")
        if when is None and (key.valid_from is not None or key.retired_at is not None):
            raise Invalid("the signed document claims no time, so the key's validity cannot be checked")
        if when is not None and not key.valid_at(when):
            if key.retired_at is not None and when >= key.retired_at:
                raise Invalid(
                    f"key {kid} was retired at {_show(key.retired_at)}; a signature claiming {_show(when)} is refused"
                )
            raise Invalid(
                f"key {kid} is valid from {_show(key.valid_from)}; a signature claiming {_show(when)} is refused"
            )
        return key


def _show(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if when else "?"


def public_key_from_jwk(jwk: Mapping[str, Any], what: str = "key") -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise Invalid(f"{what} is not an Ed25519 key (kty OKP, crv Ed25519)")
    if "d" in jwk:
        raise Invalid(f"{what} contains a private key")
    raw = b64url_decode(jwk.get("x"), what=f"{what}: x")
    if len(raw) != 32:
        raise Invalid(f"{what}: x must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _key(jwk: Any, index: int) -> Key:
    what = f"key #{index + 1}"
    if not isinstance(jwk, dict):
        raise Invalid(f"{what} is not an object")
    kid = field(jwk, "kid", str, what)
    if not KID.fullmatch(kid):
        raise Invalid(f"{what}: kid {kid!r} must be 1-64 of a-z, 0-9 and '-'")
    what = f"key {kid}"
    public_key = public_key_from_jwk(jwk, what)
    if jwk.get("alg", "EdDSA") != "EdDSA":
        raise Invalid(f"{what}: alg must be EdDSA")
    use = field(jwk, "use", str, what)
    if use == LEGACY_USE:
        return Key(kid, "receipts", public_key, jwk["x"], None, None)
    if use not in USES:
        raise Invalid(f"{what}: use {use!r} is not one of {', '.join(USES)}")
    valid_from = parse_time(field(jwk, "valid_from", str, what), f"{what}: valid_from")
    retired = field(jwk, "retired_at", str, what, optional=True)
    retired_at = parse_time(retired, f"{what}: retired_at") if retired is not None else None
    if retired_at is not None and retired_at <= valid_from:
        raise Invalid(f"{what} is retired before it is valid")
    return Key(kid, use, public_key, jwk["x"], valid_from, retired_at)


def load_key_set(data: bytes | str) -> KeySet:
    document = json_object(data, "the key set")
    issuer = field(document, "issuer", str, "the key set", optional=True)
    if issuer is not None and not ORIGIN.fullmatch(issuer):
        raise Invalid(f"the key set's issuer {issuer!r} is not an origin like https://cameo.example")
    items = field(document, "keys", list, "the key set")
    keys: dict[str, Key] = {}
    for index, jwk in enumerate(items):
        key = _key(jwk, index)
        if key.kid in keys:
            raise Invalid(f"the key set lists {key.kid} twice")
        keys[key.kid] = key
    return KeySet(issuer, keys)


def check_agrees(trusted: KeySet, shipped: KeySet) -> None:
    """The archive's own key set may not contradict the key set the user trusts."""
    if trusted.issuer and shipped.issuer and trusted.issuer != shipped.issuer:
        raise Invalid(f"issued by {shipped.issuer}, but the trusted keys are {trusted.issuer}'s")
    for kid, key in shipped.keys.items():
        known = trusted.keys.get(kid)
        if known is not None and (known.x, known.use) != (key.x, key.use):
            raise Invalid(f"key {kid} differs from the trusted key set")
