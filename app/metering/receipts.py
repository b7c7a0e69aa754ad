"""Receipts anyone can verify: Ed25519 signatures over canonical JSON, one per batch.

A receipt is ``base64url(payload) "." base64url(proof) "." base64url(signature)``.
``payload`` is the canonical JSON (sorted keys, no spaces, UTF-8) of what was licensed;
``kid`` in it names the platform key and ``v`` is 2.  The platform signs once per
report, not once per use: the payloads of a report are the leaves of a Merkle tree
(leaf ``sha256(0x00 || payload)``, node ``sha256(0x01 || left || right)``, an odd
last node moves up a level as it is), and the signature is over
``"cameo-exchange/receipt-root/v2" 0x00 || root``.  ``proof`` is the path from the
leaf to the root: 33 bytes a step, a side byte (0: the sibling is on the left,
1: on the right) and the sibling's hash; a report of one use has an empty proof.
So a receipt still proves its own use by itself, and a 1,000-use report costs one
signature instead of 1,000 (the same construction as Certificate Transparency's
audit paths, RFC 6962, with domain-separated leaf and node hashes).

Receipts of version 1 (``base64url(payload) "." base64url(signature)``, the payload
itself signed) keep verifying.

Keys live in ``instance/receipt_keys/<kid>.pem`` (PKCS#8, mode 0600); ``current``
names the signing key.  A key is generated on first use; rotation adds a key and
makes it current, and every old key keeps verifying.  The public keys are published
as a JWK set (OKP / Ed25519).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

RECEIPT_VERSION = 2
KID_ALPHABET = set("abcdefghijklmnopqrstuvwxyz0123456789-")
LEAF, NODE = b"\x00", b"\x01"
ROOT_CONTEXT = b"cameo-exchange/receipt-root/v2\x00"
STEP = 33  # a proof step: side byte + sha256
MAX_PROOF_STEPS = 64
_B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str, *, allow_empty: bool = False) -> bytes:
    if (not text and not allow_empty) or not _B64URL.issuperset(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(payload: Mapping[str, Any]) -> bytes:
    return _CANONICAL.encode(payload).encode("utf-8")


# -- the Merkle tree -------------------------------------------------------------------


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(LEAF + body).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def merkle_tree(leaves: Sequence[bytes]) -> tuple[bytes, list[bytes]]:
    """The root over ``leaves`` (leaf hashes) and each leaf's proof.

    Level ``d`` pairs nodes ``2j`` and ``2j + 1`` into node ``j`` of level ``d + 1``,
    so leaf ``i``'s ancestor at level ``d`` is ``i >> d`` and its sibling ``(i >> d) ^ 1``.
    """
    if not leaves:
        raise ValueError("a tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [_node(below[j], below[j + 1]) if j + 1 < len(below) else below[j] for j in range(0, len(below), 2)]
        )
    proofs = []
    for i in range(len(leaves)):
        steps = bytearray()
        for depth, level in enumerate(levels[:-1]):
            sibling = (i >> depth) ^ 1
            if sibling < len(level):
                steps += (b"\x00" if sibling < (i >> depth) else b"\x01") + level[sibling]
        proofs.append(bytes(steps))
    return levels[-1][0], proofs


def root_from_proof(leaf: bytes, proof: bytes) -> bytes:
    """Climb from ``leaf`` along ``proof``; ValueError when the proof is not well formed."""
    if len(proof) % STEP or len(proof) > STEP * MAX_PROOF_STEPS:
        raise ValueError("malformed proof")
    node = leaf
    for at in range(0, len(proof), STEP):
        side, sibling = proof[at], proof[at + 1 : at + STEP]
        if side == 0:
            node = _node(sibling, node)
        elif side == 1:
            node = _node(node, sibling)
        else:
            raise ValueError("malformed proof")
    return node


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
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
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
            current = self._current
            if current is None:
                raise RuntimeError(f"no receipt signing key in {self.directory} after creating one")
            return current, self._private[current]

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
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": kid,
                    "x": b64url(
                        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                    ),
                    **({"current": True} if kid == current else {}),
                }
                for kid, key in items
            ]
        }


def sign_batch(store: KeyStore, payloads: Sequence[Mapping[str, Any]], *, now: datetime) -> tuple[str, list[str], str]:
    """Sign ``payloads`` (``kid`` and ``v`` are added) with the current key and one
    signature: (kid, one token per payload in order, the root in hex)."""
    kid, key = store.signing_key(now)
    bodies = [canonical({**payload, "kid": kid, "v": RECEIPT_VERSION}) for payload in payloads]
    root, proofs = merkle_tree([leaf_hash(body) for body in bodies])
    signature = b64url(key.sign(ROOT_CONTEXT + root))
    return (
        kid,
        [f"{b64url(body)}.{b64url(proof)}.{signature}" for body, proof in zip(bodies, proofs, strict=True)],
        root.hex(),
    )


def sign(store: KeyStore, payload: Mapping[str, Any], *, now: datetime) -> tuple[str, str]:
    """Sign one ``payload`` (a batch of one): (kid, token)."""
    kid, (token,), _root = sign_batch(store, [payload], now=now)
    return kid, token


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
    if len(parts) not in (2, 3):
        return Checked(False, "malformed")
    try:
        body, signature = b64url_decode(parts[0]), b64url_decode(parts[-1])
        payload = json.loads(body)
        if len(parts) == 3:  # version 2: the signature is over the root the proof leads to
            signed = ROOT_CONTEXT + root_from_proof(leaf_hash(body), b64url_decode(parts[1], allow_empty=True))
        else:
            signed = body
    except (ValueError, UnicodeDecodeError):
        return Checked(False, "malformed")
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("kid"), str)
        or payload.get("v") != (RECEIPT_VERSION if len(parts) == 3 else 1)
    ):
        return Checked(False, "malformed")
    key = public_key(payload["kid"]) if set(payload["kid"]) <= KID_ALPHABET else None
    if key is None:
        return Checked(False, "unknown_key", payload)
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        return Checked(False, "bad_signature", payload)
    return Checked(True, "ok", payload)


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """For verifiers outside the platform (and the tests): a JWK from the published set."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 OKP key")
    return Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
