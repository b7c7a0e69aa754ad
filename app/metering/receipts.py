"""Receipts anyone can verify: Ed25519 signatures over canonical JSON.

A receipt is ``base64url(payload) "." base64url(signature)`` where ``payload`` is the
canonical JSON (sorted keys, no spaces, UTF-8) of what was licensed and ``kid`` in it
names the platform key that signed it.  Keys live in ``instance/receipt_keys/<kid>.pem``
(PKCS#8, mode 0600); ``current`` names the signing key.  A key is generated on first
use; rotation adds a key and makes it current, and every old key keeps verifying.
The public keys are published as a JWK set (OKP / Ed25519).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RECEIPT_VERSION = 1
KID_ALPHABET = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


class KeyStore:
    """The platform's receipt keys in a directory; safe for several processes: a key
    file is created exclusively, and an unknown ``kid`` makes the store re-read the
    directory (another worker may have rotated)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._current: str | None = None

    # -- loading ------------------------------------------------------------------------
    def _reload(self) -> None:
        keys: dict[str, Ed25519PrivateKey] = {}
        if self.directory.is_dir():
            for path in sorted(self.directory.glob("*.pem")):
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if isinstance(key, Ed25519PrivateKey):
                    keys[path.stem] = key
        current = None
        marker = self.directory / "current"
        if marker.exists():
            current = marker.read_text().strip() or None
        if current not in keys:
            current = max(keys) if keys else None
        self._private, self._current = keys, current

    def _create(self, now: datetime) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        kid = f"rk-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())
        fd = os.open(self.directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        tmp = self.directory / f".current.{kid}"
        tmp.write_text(kid + "\n")
        os.replace(tmp, self.directory / "current")
        return kid

    # -- use ----------------------------------------------------------------------------
    def signing_key(self, now: datetime) -> tuple[str, Ed25519PrivateKey]:
        with self._lock:
            if self._current is None:
                self._reload()
            if self._current is None:
                self._create(now)
                self._reload()
            assert self._current is not None
            return self._current, self._private[self._current]

    def rotate(self, now: datetime) -> str:
        with self._lock:
            kid = self._create(now)
            self._reload()
            return kid

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        with self._lock:
            if kid not in self._private:
                self._reload()
            key = self._private.get(kid)
            return key.public_key() if key else None

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            self._reload()
            items = sorted(self._private.items())
            current = self._current
        return {"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
            "x": b64url(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)),
            **({"current": True} if kid == current else {}),
        } for kid, key in items]}


def signer(store: KeyStore, now: datetime) -> tuple[str, Callable[[Mapping[str, Any]], str]]:
    """The current key's id and a function signing payloads with it (``kid`` is added):
    a batch looks the key up once and then only pays for the signatures."""
    kid, key = store.signing_key(now)

    def sign_payload(payload: Mapping[str, Any]) -> str:
        body = canonical({**payload, "kid": kid, "v": RECEIPT_VERSION})
        return f"{b64url(body)}.{b64url(key.sign(body))}"

    return kid, sign_payload


def sign(store: KeyStore, payload: Mapping[str, Any], *, now: datetime) -> tuple[str, str]:
    """Sign ``payload`` (``kid`` is added) with the current key: (kid, compact token)."""
    kid, sign_payload = signer(store, now)
    return kid, sign_payload(payload)


@dataclass(frozen=True)
class Checked:
    valid: bool
    reason: str  # "ok", "malformed", "unknown_key", "bad_signature"
    payload: dict[str, Any] | None = None


def unverified_payload(token: str) -> dict[str, Any] | None:
    try:
        body = b64url_decode(token.split(".", 1)[0])
        payload = json.loads(body)
        return payload if isinstance(payload, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None


def check(token: str, public_key) -> Checked:
    """Verify ``token``; ``public_key(kid)`` returns the key or ``None`` when unknown."""
    parts = token.strip().split(".")
    if len(parts) != 2:
        return Checked(False, "malformed")
    try:
        body, signature = b64url_decode(parts[0]), b64url_decode(parts[1])
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Checked(False, "malformed")
    if not isinstance(payload, dict) or not isinstance(payload.get("kid"), str):
        return Checked(False, "malformed")
    key = public_key(payload["kid"]) if set(payload["kid"]) <= KID_ALPHABET else None
    if key is None:
        return Checked(False, "unknown_key", payload)
    try:
        key.verify(signature, body)
    except InvalidSignature:
        return Checked(False, "bad_signature", payload)
    return Checked(True, "ok", payload)


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """For verifiers outside the platform (and the tests): a JWK from the published set."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 OKP key")
    return Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
