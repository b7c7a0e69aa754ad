"""The producer side of docs/formats/, written from the documents for the tests.

It makes what the platform will make — keys, receipts, a sealed ledger with its
RFC 6962 tree, checkpoints, attestations, statements, manifests — with real Ed25519
keys, so the verifier is tested against an independent implementation: trees are
built recursively here (RFC 6962 §2.1) while the verifier only climbs proofs, and
receipt proofs are derived from RFC 6962 audit paths (the app builds them level by level).
Keys come from fixed seeds, so everything (Ed25519 is deterministic) is reproducible
and the documents' test vectors can be recomputed byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cameo_verify.encoding import b64url, canonical_json

ISSUER = "https://cameo.example"
JKU = f"{ISSUER}/.well-known/cameo-keys.json"
GENESIS = "0" * 64


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def private_key(seed_label: str) -> Ed25519PrivateKey:
    """A test key whose 32-byte seed is sha256 of its label."""
    return Ed25519PrivateKey.from_private_bytes(sha256(seed_label.encode()))


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass
class Platform:
    """The issuer: its keys (kid → seed label, use, window) and signing helpers."""

    issuer: str = ISSUER
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_key(self, kid: str, use: str, valid_from: str, retired_at: str | None = None) -> None:
        self.keys[kid] = {
            "use": use,
            "valid_from": valid_from,
            "retired_at": retired_at,
            "private": private_key(f"cameo-verify test key {kid}"),
        }

    def key_set(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "kid": kid,
                    "use": spec["use"],
                    "x": b64url(raw_public(spec["private"])),
                    "valid_from": spec["valid_from"],
                    **({"retired_at": spec["retired_at"]} if spec["retired_at"] else {}),
                }
                for kid, spec in sorted(self.keys.items())
            ],
        }

    def sign(self, kid: str, message: bytes) -> bytes:
        return self.keys[kid]["private"].sign(message)

    def jws(self, kid: str, typ: str, payload: bytes) -> str:
        header = canonical_json({"alg": "EdDSA", "kid": kid, "typ": typ})
        signing_input = f"{b64url(header)}.{b64url(payload)}"
        return f"{signing_input}.{b64url(self.sign(kid, signing_input.encode('ascii')))}"


# -- Merkle trees ----------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash over leaf hashes."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def audit_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n])."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return audit_path(index, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(index - k, leaves[k:]) + [mth(leaves[:k])]


def consistency_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(m, D[n])."""

    def subproof(m: int, d: Sequence[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [mth(d)]
        k = _split(n)
        if m <= k:
            return subproof(m, d[:k], complete) + [mth(d[k:])]
        return subproof(m - k, d[k:], False) + [mth(d[:k])]

    return subproof(m, leaves, True) if 0 < m < len(leaves) else []


def receipt_tree(leaves: Sequence[bytes]) -> tuple[bytes, list[bytes]]:
    """The root and each leaf's receipt proof (side byte + sibling a step), derived from
    the RFC 6962 audit path: the leaf index says on which side each sibling goes."""
    proofs = []
    for index in range(len(leaves)):
        steps, fn, sn = bytearray(), index, len(leaves) - 1
        for sibling in audit_path(index, leaves):
            left = fn & 1 or fn == sn
            steps += (b"\x00" if left else b"\x01") + sibling
            if left:
                while not fn & 1 and fn:
                    fn, sn = fn >> 1, sn >> 1
            fn, sn = fn >> 1, sn >> 1
        proofs.append(bytes(steps))
    return mth(leaves), proofs


# -- receipts --------------------------------------------------------------------------

ROOT_CONTEXT = {2: b"cameo-exchange/receipt-root/v2\x00", 3: b"cameo-exchange/receipt-root/v3\x00"}


def sign_receipts(
    platform: Platform, kid: str, payloads: Sequence[dict[str, Any]], *, version: int = 3
) -> tuple[list[str], str]:
    """One report's receipts: (tokens, the Merkle root in hex); v1 signs each payload itself."""
    extra = {"iss": platform.issuer, "jku": JKU} if version == 3 else {}
    bodies = [canonical_json({**payload, **extra, "kid": kid, "v": version}) for payload in payloads]
    if version == 1:
        return [f"{b64url(body)}.{b64url(platform.sign(kid, body))}" for body in bodies], ""
    root, proofs = receipt_tree([leaf_hash(body) for body in bodies])
    signature = b64url(platform.sign(kid, ROOT_CONTEXT[version] + root))
    return [
        f"{b64url(body)}.{b64url(proof)}.{signature}" for body, proof in zip(bodies, proofs, strict=True)
    ], root.hex()


def receipt_payload(
    receipt_id: str,
    *,
    licence_id: int,
    contract_sha256: str,
    brand: int,
    cameo: int,
    event: str,
    price: int,
    occurred_at: str,
    issued_at: str,
    currency: str = "USD",
    quantity: int = 1,
    content_sha256: str | None = None,
) -> dict[str, Any]:
    return {
        "typ": "cameo-exchange/usage-receipt",
        "receipt_id": receipt_id,
        "licence_id": licence_id,
        "licence_contract_sha256": contract_sha256,
        "brand_org_id": brand,
        "cameo_id": cameo,
        "event_id": event,
        "kind": "render",
        "quantity": quantity,
        "territory": "US",
        "media": "video",
        "price_minor": price,
        "currency": currency,
        "occurred_at": occurred_at,
        "content": {"sha256": content_sha256 or hashlib.sha256(event.encode()).hexdigest(), "url": None},
        "issued_at": issued_at,
    }


# -- the ledger ------------------------------------------------------------------------


def content_bytes(content: dict[str, Any]) -> bytes:
    """As ledger/canonical.py writes it: json.dumps(sort_keys, compact separators, ensure_ascii=False)."""
    document = {**content, "postings": sorted(content["postings"])}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Sealed:
    seq: int
    prev_hash: str
    posted_at: str
    content: dict[str, Any]
    content_hash: str
    hash: str

    def archived(self) -> dict[str, Any]:
        return {
            "prev_hash": self.prev_hash,
            "posted_at": self.posted_at,
            "content_hash": self.content_hash,
            "content": self.content,
        }


@dataclass
class Book:
    """A sealed chain of entries in seq order (gaps allowed) and its checkpoint tree."""

    entries: list[Sealed] = field(default_factory=list)

    def post(
        self,
        seq: int,
        posted_at: str,
        *,
        key: str,
        kind: str,
        effective_at: str,
        postings: list[list[Any]],
        memo: str = "",
        metadata: dict[str, Any] | None = None,
        reverses: int | None = None,
    ) -> Sealed:
        content = {
            "idempotency_key": key,
            "kind": kind,
            "effective_at": effective_at,
            "memo": memo,
            "metadata": metadata or {},
            "reverses": reverses,
            "postings": sorted(postings),
        }
        content_hash = hashlib.sha256(content_bytes(content)).hexdigest()
        prev = self.entries[-1].hash if self.entries else GENESIS
        link = hashlib.sha256(f"{prev}|{seq}|{posted_at}|{content_hash}".encode()).hexdigest()
        entry = Sealed(seq, prev, posted_at, content, content_hash, link)
        self.entries.append(entry)
        return entry

    def leaves(self, size: int | None = None) -> list[bytes]:
        return [leaf_hash(bytes.fromhex(e.hash)) for e in self.entries[:size]]

    def index(self, seq: int) -> int:
        return next(i for i, e in enumerate(self.entries) if e.seq == seq)

    def checkpoint_payload(self, size: int, issued_at: str, kid: str, origin: str = ISSUER) -> dict[str, Any]:
        head = self.entries[size - 1] if size else None
        return {
            "typ": "cameo-exchange/checkpoint",
            "v": 1,
            "origin": origin,
            "tree_size": size,
            "root": mth(self.leaves(size)).hex(),
            "head_seq": head.seq if head else 0,
            "head_hash": head.hash if head else GENESIS,
            "issued_at": issued_at,
            "kid": kid,
        }

    def inclusion(self, seq: int, size: int, checkpoint: str) -> dict[str, Any]:
        index = self.index(seq)
        return {
            "checkpoint": checkpoint,
            "leaf_index": index,
            "audit_path": [h.hex() for h in audit_path(index, self.leaves(size))],
        }

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        return {"old_size": old, "new_size": new, "proof": [h.hex() for h in consistency_proof(old, self.leaves(new))]}


# -- archives --------------------------------------------------------------------------


def manifest_files(
    files: dict[str, bytes], platform: Platform, *, kid: str, subject: str, issued_at: str, archive_id: str = "arc_test"
) -> dict[str, bytes]:
    """``files`` plus manifest.json and manifest.jws over every one of them."""
    body = {k: v for k, v in files.items() if k not in ("manifest.json", "manifest.jws")}
    manifest = canonical_json(
        {
            "typ": "cameo-exchange/archive-manifest",
            "v": 1,
            "iss": platform.issuer,
            "archive_id": archive_id,
            "subject": subject,
            "issued_at": issued_at,
            "kid": kid,
            "files": [
                {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for path, data in sorted(body.items())
            ],
        }
    )
    return {
        **body,
        "manifest.json": manifest,
        "manifest.jws": platform.jws(kid, "cameo-archive-manifest", manifest).encode("ascii"),
    }


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            archive.writestr(path, data)
    return buffer.getvalue()


def json_file(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def edit_json(files: dict[str, bytes], path: str, change) -> dict[str, bytes]:
    """``files`` with the JSON document at ``path`` changed in place by ``change(document)``."""
    document = json.loads(files[path])
    change(document)
    return {**files, path: json_file(document)}


def flip(data: bytes, at: int | None = None) -> bytes:
    """``data`` with one bit changed (in the middle unless ``at`` says where)."""
    at = len(data) // 2 if at is None else at
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
