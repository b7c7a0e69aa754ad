"""Merkle trees as RFC 6962 / RFC 9162 define them (docs/formats/checkpoints.md).

One tree shape serves both receipts and checkpoints: leaf ``sha256(0x00 || data)``,
node ``sha256(0x01 || left || right)``, the root of ``n`` leaves splits at the largest
power of two below ``n``.  (The receipts' "pair neighbours, an odd last node moves up"
builds exactly this tree.)  Only the proof encodings differ:

* a receipt's proof is self-describing: 33-byte steps, a side byte and a sibling;
* a checkpoint's audit path is the list of siblings only; the leaf index and the tree
  size say on which side each one goes (RFC 9162 §2.1.3.2), and two tree heads are
  tied together by a consistency proof (RFC 9162 §2.1.4.2).

Verifiers only: producing trees and proofs is the platform's job (and the tests').
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .encoding import Invalid

LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # the root of a tree of no leaves (RFC 6962 §2.1)
RECEIPT_STEP = 33  # side byte + sha256
MAX_RECEIPT_STEPS = 64


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_from_receipt_proof(leaf: bytes, proof: bytes) -> bytes:
    """Climb from ``leaf`` along a receipt proof: side 0 = the sibling is on the left, 1 = on the right."""
    if len(proof) % RECEIPT_STEP or len(proof) > RECEIPT_STEP * MAX_RECEIPT_STEPS:
        raise Invalid("the Merkle proof is not a whole number of 33-byte steps (at most 64)")
    node = leaf
    for at in range(0, len(proof), RECEIPT_STEP):
        side, sibling = proof[at], proof[at + 1 : at + RECEIPT_STEP]
        if side == 0:
            node = node_hash(sibling, node)
        elif side == 1:
            node = node_hash(node, sibling)
        else:
            raise Invalid(f"the Merkle proof has side byte {side} (only 0 and 1 exist)")
    return node


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an audit path leads to from leaf ``index`` of a tree of ``size`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise Invalid(f"leaf index {index} is outside a tree of {size}")
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise Invalid("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Invalid("the audit path is shorter than the tree is deep")
    return node


def check_consistency(old_size: int, old_root: bytes, new_size: int, new_root: bytes, proof: Sequence[bytes]) -> None:
    """The tree of ``new_size`` leaves extends the tree of ``old_size`` (RFC 9162 §2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        raise Invalid(f"a tree of {new_size} cannot extend one of {old_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise Invalid("two tree heads of the same size have different roots")
        return
    if old_size == 0:  # the empty tree is a prefix of every tree; there is nothing to prove
        if proof:
            raise Invalid("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise Invalid("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise Invalid("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise Invalid(f"the tree of {new_size} does not extend the tree of {old_size}: history was rewritten")
