"""The documents' test vectors: recomputed (so docs/formats cannot drift from the code)
and checked by the verifier; plus Certificate Transparency's RFC 6962 vectors and a
receipt made by the app itself."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

import pytest
import vectors
from builder import audit_path, consistency_proof, leaf_hash, mth, node_hash, receipt_tree

from cameo_verify import Invalid, load_key_set, verify_receipt
from cameo_verify.checkpoints import check_inclusion, verify_checkpoint
from cameo_verify.encoding import b64url_decode, canonical_json
from cameo_verify.entries import read_entry
from cameo_verify.merkle import check_consistency, root_from_inclusion, root_from_receipt_proof
from cameo_verify.statements import read_statement

BLOCKS = vectors.blocks()


def block(name: str):
    return BLOCKS[name][1]


def test_every_vector_is_in_the_documents():
    assert set(vectors.VECTORS) <= set(BLOCKS), "run: python verifier/tests/vectors.py --write"


@pytest.mark.parametrize("name", sorted(vectors.VECTORS))
def test_the_documented_vector_is_what_the_code_computes(name):
    assert block(name) == json.loads(vectors.render(vectors.VECTORS[name]())), (
        f"{BLOCKS[name][0].name} is out of date: python verifier/tests/vectors.py --write"
    )


def vector_keys():
    return load_key_set(json.dumps(block("key-set")["key_set"]))


def test_the_documented_seeds_make_the_documented_keys():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    documented = block("key-set")
    for kid, seed in documented["seeds"].items():
        public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)).public_key()
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert vector_keys().keys[kid].x == next(k["x"] for k in documented["key_set"]["keys"] if k["kid"] == kid)
        assert b64url_decode(vector_keys().keys[kid].x) == raw


def test_receipt_v2_batch_verifies_step_by_step():
    v = block("receipt-v2-batch")
    leaves = [hashlib.sha256(b"\x00" + p.encode()).hexdigest() for p in v["payloads_utf8"]]
    assert leaves == v["leaf_hashes"]
    assert hashlib.sha256(b"\x01" + bytes.fromhex(leaves[0]) + bytes.fromhex(leaves[1])).hexdigest() == v["node_0_1"]
    assert hashlib.sha256(b"\x01" + bytes.fromhex(v["node_0_1"]) + bytes.fromhex(leaves[2])).hexdigest() == v["root"]
    assert v["signed_message_hex"] == b"cameo-exchange/receipt-root/v2\x00".hex() + v["root"]
    assert [len(bytes.fromhex(p)) for p in v["proofs_hex"]] == [66, 66, 33]  # the third leaf moved up
    for token, proof in zip(v["tokens"], v["proofs_hex"], strict=True):
        receipt = verify_receipt(token, vector_keys())
        assert receipt.version == 2 and receipt.root.hex() == v["root"]
        assert b64url_decode(token.split(".")[1], allow_empty=True).hex() == proof


def test_receipt_v3_single_has_an_empty_proof_and_its_issuer():
    v = block("receipt-v3-single")
    body, proof, _ = v["token"].split(".")
    assert proof == "" and b64url_decode(body).decode() == v["payload_utf8"]
    receipt = verify_receipt(v["token"], vector_keys())
    assert receipt.version == 3 and receipt.payload["iss"] == "https://cameo.example"
    assert receipt.root.hex() == v["root"] == hashlib.sha256(b"\x00" + v["payload_utf8"].encode()).hexdigest()


def test_a_retired_key_keeps_its_old_receipts_and_signs_no_new_ones():
    v = block("receipt-v1-and-retired")
    assert verify_receipt(v["v1_token"], vector_keys()).version == 1
    with pytest.raises(Invalid) as caught:
        verify_receipt(v["after_retirement_token"], vector_keys())
    assert caught.value.reason == (
        "key rk-2026-a was retired at 2026-07-01T00:00:00.000000Z; "
        "a signature claiming 2026-08-01T12:00:00.000000Z is refused"
    )


def test_a_receipt_before_its_key_is_valid_is_refused():
    token = block("receipt-v2-batch")["tokens"][0]  # rk-2026-b is valid from 2026-07-01
    keys = json.loads(json.dumps(block("key-set")["key_set"]))
    next(k for k in keys["keys"] if k["kid"] == "rk-2026-b")["valid_from"] = "2026-11-01T00:00:00Z"
    with pytest.raises(Invalid, match="is valid from 2026-11-01"):
        verify_receipt(token, load_key_set(json.dumps(keys)))


def test_a_v3_receipt_of_another_issuer_is_refused():
    keys = dict(block("key-set")["key_set"], issuer="https://other.example")
    with pytest.raises(
        Invalid, match=re.escape("issued by https://cameo.example, but the key set is https://other.example's")
    ):
        verify_receipt(block("receipt-v3-single")["token"], load_key_set(json.dumps(keys)))


def test_receipts_made_by_the_app_verify():
    text = (vectors.DOCS / "receipts.md").read_text(encoding="utf-8")
    app = json.loads(re.search(r"<!-- app-vector: receipt-app-v2 -->\n```json\n(.*?)\n```", text, re.DOTALL)[1])
    keys = load_key_set(json.dumps(app["key_set"]))
    for token in app["tokens"]:
        receipt = verify_receipt(token, keys)
        assert receipt.version == 2 and receipt.root.hex() == app["root"]
    body, proof, signature = app["tokens"][0].split(".")
    with pytest.raises(Invalid, match="does not verify"):
        verify_receipt(f"{body}.{proof}.{signature[:-2]}AA", keys)


def test_entry_vector_recomputes():
    v = block("entry-hashes")
    entry = read_entry({k: v[k] for k in ("prev_hash", "posted_at", "content_hash", "content")}, v["seq"])
    assert bytes.fromhex(v["canonical_hex"]).decode() == v["canonical_utf8"]
    assert hashlib.sha256(bytes.fromhex(v["canonical_hex"])).hexdigest() == v["content_hash"] == entry.content_hash
    assert hashlib.sha256(v["link_text"].encode()).hexdigest() == v["hash"] == entry.hash
    assert entry.leaf.hex() == v["leaf_hash"]


def test_the_ledger_hashes_the_entry_vector_the_same_way():
    canonical = pytest.importorskip("ledger.canonical")  # the engine, where this suite runs inside the project
    v = block("entry-hashes")
    content = v["content"]

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    computed = canonical.content_hash(
        idempotency_key=content["idempotency_key"],
        kind=content["kind"],
        effective_at=when(content["effective_at"]),
        memo=content["memo"],
        meta=content["metadata"],
        reverses_seq=content["reverses"],
        postings=[tuple(p) for p in content["postings"]],
    )
    assert computed == v["content_hash"]
    assert canonical.chain_hash(v["prev_hash"], v["seq"], when(v["posted_at"]), computed) == v["hash"]


def test_checkpoint_tree_vector_verifies():
    v = block("checkpoint-tree")
    leaves = [bytes.fromhex(h) for h in v["leaf_hashes"]]
    assert [leaf_hash(bytes.fromhex(e["hash"])).hex() for e in v["entries"]] == v["leaf_hashes"]
    inclusion = v["inclusion"]
    root = root_from_inclusion(leaves[2], 2, 7, [bytes.fromhex(h) for h in inclusion["audit_path"]])
    assert root.hex() == v["roots"]["7"]
    consistency = v["consistency"]
    check_consistency(
        3,
        bytes.fromhex(v["roots"]["3"]),
        7,
        bytes.fromhex(v["roots"]["7"]),
        [bytes.fromhex(h) for h in consistency["proof"]],
    )
    with pytest.raises(Invalid, match="history was rewritten"):
        check_consistency(
            3,
            bytes.fromhex(v["roots"]["4"]),
            7,
            bytes.fromhex(v["roots"]["7"]),
            [bytes.fromhex(h) for h in consistency["proof"]],
        )


def test_checkpoint_jws_vector_verifies_and_its_head_is_the_last_leaf():
    v = block("checkpoint-jws")
    checkpoint = verify_checkpoint(v["jws"], vector_keys())
    tree = block("checkpoint-tree")
    assert checkpoint.root.hex() == tree["roots"]["7"] and checkpoint.tree_size == 7
    assert (checkpoint.head_seq, checkpoint.head_hash) == (9, tree["entries"][-1]["hash"])
    header, payload, _ = v["jws"].split(".")
    assert b64url_decode(header).decode() == v["header_utf8"] and b64url_decode(payload).decode() == v["payload_utf8"]


def test_statement_example_checks():
    statement = read_statement(block("statement-example"), "2026-11-USD.json")
    assert statement.opening == {"receivable": 750} and statement.closing == {"receivable": 1000}
    line = statement.lines[0]
    assert line.receipts == ("rcpt_render-4",)


def test_the_vector_statement_line_proves_into_the_scenario_checkpoint(world):
    statement = read_statement(block("statement-example"), "2026-11-USD.json")
    line = statement.lines[0]
    checkpoint = verify_checkpoint(
        world.platform.jws(
            "ck-1", "cameo-checkpoint", canonical_json(world.book.checkpoint_payload(9, "2026-11-05T00:10:00Z", "ck-1"))
        ),
        load_key_set(json.dumps(world.platform.key_set())),
    )
    check_inclusion(
        line.entry, line.proof["leaf_index"], [bytes.fromhex(h) for h in line.proof["audit_path"]], checkpoint
    )


# -- RFC 6962 as Certificate Transparency publishes it -----------------------------------

CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (1, 8): CT_PATHS[(0, 8)],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
CT_LEAF_HASHES = [leaf_hash(bytes.fromhex(d)) for d in CT_LEAVES]


def level_by_level_root(leaves: list[bytes]) -> bytes:
    """The receipts' construction (receipts.md): pair neighbours, a last odd node moves up."""
    while len(leaves) > 1:
        leaves = [node_hash(*leaves[j : j + 2]) if j + 1 < len(leaves) else leaves[j] for j in range(0, len(leaves), 2)]
    return leaves[0]


def test_certificate_transparency_roots():
    assert [mth(CT_LEAF_HASHES[:n]).hex() for n in range(1, 9)] == CT_ROOTS
    assert [level_by_level_root(CT_LEAF_HASHES[:n]).hex() for n in range(1, 9)] == CT_ROOTS


@pytest.mark.parametrize("index,size", sorted(CT_PATHS))
def test_certificate_transparency_audit_paths(index, size):
    path = [bytes.fromhex(h) for h in CT_PATHS[(index, size)]]
    assert audit_path(index, CT_LEAF_HASHES[:size]) == path
    assert root_from_inclusion(CT_LEAF_HASHES[index], index, size, path).hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize("old,new", sorted(CT_CONSISTENCY))
def test_certificate_transparency_consistency(old, new):
    proof = [bytes.fromhex(h) for h in CT_CONSISTENCY[(old, new)]]
    assert consistency_proof(old, CT_LEAF_HASHES[:new]) == proof
    check_consistency(old, bytes.fromhex(CT_ROOTS[old - 1]), new, bytes.fromhex(CT_ROOTS[new - 1]), proof)


def test_every_proof_of_every_small_tree_verifies_and_a_wrong_one_does_not():
    leaves = [leaf_hash(bytes([i])) for i in range(33)]
    for n in range(1, 34):
        root = mth(leaves[:n])
        receipts_root, side_proofs = receipt_tree(leaves[:n])
        assert receipts_root == root == level_by_level_root(leaves[:n])  # the receipts' tree is RFC 6962's
        for i in range(n):
            assert root_from_inclusion(leaves[i], i, n, audit_path(i, leaves[:n])) == root
            assert root_from_receipt_proof(leaves[i], side_proofs[i]) == root
            if n > 1:
                assert root_from_inclusion(leaves[(i + 1) % n], i, n, audit_path(i, leaves[:n])) != root
        for m in range(1, n + 1):
            check_consistency(m, mth(leaves[:m]), n, root, consistency_proof(m, leaves[:n]))
            if m < n:
                with pytest.raises(Invalid):
                    check_consistency(m, mth(leaves[1 : m + 1]), n, root, consistency_proof(m, leaves[:n]))
