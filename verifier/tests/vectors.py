"""The test vectors of docs/formats/*.md, computed from their inputs.

Each vector sits in a document as a JSON block after ``<!-- vector: NAME -->``.
``test_vectors.py`` checks that every block equals what this module computes (so the
documents cannot drift from the code) and that the verifier accepts them.  After a
deliberate format change, rewrite the blocks with::

    python verifier/tests/vectors.py --write
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "src")]

import scenario  # noqa: E402
from builder import (  # noqa: E402
    ROOT_CONTEXT,
    Book,
    Platform,
    audit_path,
    consistency_proof,
    content_bytes,
    leaf_hash,
    mth,
    node_hash,
    receipt_tree,
    sign_receipts,
)

from cameo_verify.encoding import canonical_json  # noqa: E402

DOCS = Path(__file__).parents[2] / "docs" / "formats"
BLOCK = re.compile(r"(<!-- vector: ([a-z0-9-]+) -->\n```json\n)(.*?)(\n```)", re.DOTALL)


def vector_platform() -> Platform:
    p = Platform()
    p.add_key("rk-2026-a", "receipts", "2026-01-01T00:00:00Z", retired_at="2026-07-01T00:00:00Z")
    p.add_key("rk-2026-b", "receipts", "2026-07-01T00:00:00Z")
    p.add_key("ck-2026-a", "checkpoints", "2026-01-01T00:00:00Z")
    return p


def seed_hex(kid: str) -> str:
    return hashlib.sha256(f"cameo-verify test key {kid}".encode()).hexdigest()


def key_set() -> dict[str, Any]:
    return {
        "seeds": {kid: seed_hex(kid) for kid in sorted(vector_platform().keys)},
        "key_set": vector_platform().key_set(),
    }


def _payload(n: int, issued_at: str) -> dict[str, Any]:
    return scenario.receipt_payload(
        f"rcpt_{n:024x}",
        licence_id=12,
        contract_sha256="9f2c" * 16,
        brand=3,
        cameo=5,
        event=f"render-{n}",
        price=250 * n,
        quantity=n,
        occurred_at="2026-10-15T11:00:00.000000Z",
        issued_at=issued_at,
        content_sha256=f"{n:064x}",
    )


def receipt_v2_batch() -> dict[str, Any]:
    p = vector_platform()
    payloads = [_payload(n, "2026-10-15T12:00:00.000000Z") for n in (1, 2, 3)]
    bodies = [canonical_json({**pl, "kid": "rk-2026-b", "v": 2}) for pl in payloads]
    leaves = [leaf_hash(b) for b in bodies]
    root, proofs = receipt_tree(leaves)
    tokens, _ = sign_receipts(p, "rk-2026-b", payloads, version=2)
    return {
        "kid": "rk-2026-b",
        "payloads_utf8": [b.decode() for b in bodies],
        "leaf_hashes": [h.hex() for h in leaves],
        "node_0_1": node_hash(leaves[0], leaves[1]).hex(),
        "root": root.hex(),
        "signed_message_hex": (ROOT_CONTEXT[2] + root).hex(),
        "signature": tokens[0].split(".")[2],
        "proofs_hex": [pr.hex() for pr in proofs],
        "tokens": tokens,
    }


def receipt_v3_single() -> dict[str, Any]:
    p = vector_platform()
    payload = _payload(4, "2026-10-20T12:00:00.000000Z")
    [token], root = sign_receipts(p, "rk-2026-b", [payload], version=3)
    body = canonical_json(
        {
            **payload,
            "iss": p.issuer,
            "jku": scenario.platform().issuer + "/.well-known/cameo-keys.json",
            "kid": "rk-2026-b",
            "v": 3,
        }
    )
    return {
        "payload_utf8": body.decode(),
        "root": root,
        "signed_message_hex": (ROOT_CONTEXT[3] + bytes.fromhex(root)).hex(),
        "token": token,
    }


def receipt_v1_and_retired() -> dict[str, Any]:
    p = vector_platform()
    [v1], _ = sign_receipts(p, "rk-2026-a", [_payload(5, "2026-03-01T12:00:00.000000Z")], version=1)
    [late], _ = sign_receipts(p, "rk-2026-a", [_payload(6, "2026-08-01T12:00:00.000000Z")], version=3)
    return {"v1_token": v1, "v1_verifies": True, "after_retirement_token": late, "after_retirement_verifies": False}


def entry_hashes() -> dict[str, Any]:
    content = {
        "idempotency_key": "usage:3:render-1",
        "kind": "usage.royalty",
        "effective_at": "2026-10-15T12:00:00.000000Z",
        "memo": 'Übung "quoted"\tand a tab \u2028 🎬',
        "metadata": {"licence_id": 12, "uses": 1, "é": True, "z": None, "Z": [1, "\u0007"], "🎬": "emoji key"},
        "reverses": None,
        "postings": [
            ["platform:revenue:commission:USD", -25, "USD"],
            ["brand:3:receivable:USD", 250, "USD"],
            ["creator:7:payable:USD", -225, "USD"],
        ],
    }
    data = content_bytes(content)
    content_hash = hashlib.sha256(data).hexdigest()
    prev = "5" * 64
    link = f"{prev}|4|2026-10-15T12:00:00.123456Z|{content_hash}"
    chain = hashlib.sha256(link.encode()).hexdigest()
    return {
        "content": content,
        "canonical_utf8": data.decode(),
        "canonical_hex": data.hex(),
        "content_hash": content_hash,
        "prev_hash": prev,
        "seq": 4,
        "posted_at": "2026-10-15T12:00:00.123456Z",
        "link_text": link,
        "hash": chain,
        "leaf_hash": leaf_hash(bytes.fromhex(chain)).hex(),
    }


def _vector_book() -> Book:
    book = Book()
    for n, seq in enumerate((1, 2, 4, 5, 6, 7, 9), start=1):
        at = f"2026-10-{n:02d}T12:00:00.000000Z"
        book.post(
            seq,
            at,
            key=f"k{seq}",
            kind="licence.sale",
            effective_at=at,
            postings=[["platform:stripe:USD", 100 * n, "USD"], [f"creator:{n}:payable:USD", -100 * n, "USD"]],
        )
    return book


def checkpoint_tree() -> dict[str, Any]:
    book = _vector_book()
    leaves = book.leaves()
    return {
        "entries": [{"seq": e.seq, "hash": e.hash} for e in book.entries],
        "leaf_hashes": [h.hex() for h in leaves],
        "roots": {str(n): mth(leaves[:n]).hex() for n in (1, 3, 4, 6, 7)},
        "inclusion": {"leaf_index": 2, "tree_size": 7, "audit_path": [h.hex() for h in audit_path(2, leaves)]},
        "consistency": {"old_size": 3, "new_size": 7, "proof": [h.hex() for h in consistency_proof(3, leaves)]},
    }


def checkpoint_jws() -> dict[str, Any]:
    p, book = vector_platform(), _vector_book()
    payload = book.checkpoint_payload(7, "2026-10-08T00:00:00.000000Z", "ck-2026-a")
    token = p.jws("ck-2026-a", "cameo-checkpoint", canonical_json(payload))
    return {
        "header_utf8": canonical_json({"alg": "EdDSA", "kid": "ck-2026-a", "typ": "cameo-checkpoint"}).decode(),
        "payload_utf8": canonical_json(payload).decode(),
        "jws": token,
    }


def statement_example() -> dict[str, Any]:
    s = scenario.build()
    october = scenario.statement(s, "brand", scenario.BRAND, "2026-10", {"receivable": 0})
    return scenario.statement(s, "brand", scenario.BRAND, "2026-11", october["closing"])


VECTORS: dict[str, Callable[[], Any]] = {
    "key-set": key_set,
    "receipt-v2-batch": receipt_v2_batch,
    "receipt-v3-single": receipt_v3_single,
    "receipt-v1-and-retired": receipt_v1_and_retired,
    "entry-hashes": entry_hashes,
    "checkpoint-tree": checkpoint_tree,
    "checkpoint-jws": checkpoint_jws,
    "statement-example": statement_example,
}


def render(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=True)


def blocks() -> dict[str, tuple[Path, Any]]:
    """Every vector block in the documents: name → (document, parsed JSON)."""
    found = {}
    for doc in sorted(DOCS.glob("*.md")):
        for match in BLOCK.finditer(doc.read_text(encoding="utf-8")):
            found[match[2]] = (doc, json.loads(match[3]))
    return found


def write() -> None:
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        updated = BLOCK.sub(lambda m: m[1] + (render(VECTORS[m[2]]()) if m[2] in VECTORS else m[3]) + m[4], text)
        if updated != text:
            doc.write_text(updated, encoding="utf-8")
            print(f"rewrote {doc}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        for name, compute in VECTORS.items():
            print(f"<!-- vector: {name} -->\n```json\n{render(compute())}\n```\n")
