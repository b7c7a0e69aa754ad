"""Signed checkpoints of the ledger's chain (docs/formats/checkpoints.md).

A checkpoint is a JWS (``typ: cameo-checkpoint``, a ``checkpoints`` key) over
``{typ, v, origin, tree_size, root, head_seq, head_hash, issued_at, kid}``: the root
of the RFC 6962 tree whose leaf ``i`` is the ``i``-th sealed entry's chain link, and
the linear chain's head (the last of those entries).  Two checks hang off it:

* inclusion — an entry's recomputed link, its leaf index and audit path lead to the
  root, and the last leaf *is* the head (so the tree and the linear chain agree);
* consistency — a later checkpoint's tree extends an earlier one's, so a rewritten or
  truncated history cannot hide behind a fresh signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .encoding import Invalid, field, hex64, is_int
from .entries import GENESIS_HASH, SealedEntry
from .jws import open_signed
from .keys import KeySet
from .merkle import EMPTY_ROOT, check_consistency, root_from_inclusion

JWS_TYPE = "cameo-checkpoint"
CHECKPOINT_TYPE = "cameo-exchange/checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root: bytes
    head_seq: int
    head_hash: str
    issued_at: str
    kid: str


def verify_checkpoint(token: bytes | str, keys: KeySet) -> Checkpoint:
    payload = open_signed(token, keys, typ=JWS_TYPE, use="checkpoints", time_field="issued_at")
    what = "the checkpoint"
    if payload.get("typ") != CHECKPOINT_TYPE or payload.get("v") != 1:
        raise Invalid(f"{what} is not a {CHECKPOINT_TYPE} of version 1")
    origin = field(payload, "origin", str, what)
    if keys.issuer is not None and origin != keys.issuer:
        raise Invalid(f"{what} is {origin}'s, but the key set is {keys.issuer}'s")
    size, head_seq = field(payload, "tree_size", int, what), field(payload, "head_seq", int, what)
    root = bytes.fromhex(hex64(payload.get("root"), f"{what}: root"))
    head_hash = hex64(payload.get("head_hash"), f"{what}: head_hash")
    if size < 0 or head_seq < 0:
        raise Invalid(f"{what}: tree_size and head_seq cannot be negative")
    if size == 0 and (root != EMPTY_ROOT or head_seq != 0 or head_hash != GENESIS_HASH):
        raise Invalid(f"{what} of an empty tree must have the empty root, head_seq 0 and the genesis hash")
    if size > head_seq:
        raise Invalid(f"{what} has {size} entries but its head is seq {head_seq}")
    return Checkpoint(origin, size, root, head_seq, head_hash, payload["issued_at"], payload["kid"])


def audit_path(raw: Any) -> list[bytes]:
    if not isinstance(raw, list) or len(raw) > 64:
        raise Invalid("an audit path is a list of at most 64 hashes")
    return [bytes.fromhex(hex64(node, "an audit path node")) for node in raw]


def check_inclusion(entry: SealedEntry, leaf_index: Any, path: Sequence[bytes], checkpoint: Checkpoint) -> None:
    """``entry`` is leaf ``leaf_index`` of the tree ``checkpoint`` signed."""
    if not is_int(leaf_index):
        raise Invalid("leaf_index must be an integer")
    if (leaf_index == 0) != (entry.prev_hash == GENESIS_HASH):
        raise Invalid(f"entry {entry.seq}: only the first sealed entry follows the genesis hash")
    if root_from_inclusion(entry.leaf, leaf_index, checkpoint.tree_size, path) != checkpoint.root:
        raise Invalid(
            f"entry {entry.seq} is not leaf {leaf_index} of the checkpoint of {checkpoint.tree_size} "
            "entries (its recomputed link and audit path do not lead to the signed root)"
        )
    if leaf_index == checkpoint.tree_size - 1 and (entry.seq, entry.hash) != (
        checkpoint.head_seq,
        checkpoint.head_hash,
    ):
        raise Invalid(f"entry {entry.seq} is the checkpoint's last leaf but not its head")


def check_checkpoint_consistency(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    if new.tree_size > old.tree_size and new.head_seq <= old.head_seq:
        raise Invalid(
            f"the tree grew from {old.tree_size} to {new.tree_size} but its head went from seq "
            f"{old.head_seq} to {new.head_seq}"
        )
    if new.tree_size == old.tree_size and (new.head_seq, new.head_hash) != (old.head_seq, old.head_hash):
        raise Invalid(f"two checkpoints of {new.tree_size} entries name different heads")
    check_consistency(old.tree_size, old.root, new.tree_size, new.root, proof)
