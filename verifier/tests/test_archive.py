"""Whole archives: a good one verifies; each kind of tampering is named, by file and reason."""

from __future__ import annotations

import json

import pytest
import scenario
from builder import Book, edit_json, flip, json_file, manifest_files

from cameo_verify.archive import verify_members
from cameo_verify.encoding import Invalid, b64url, b64url_decode, canonical_json


def test_a_good_archive_verifies_with_a_summary(cli, write_zip, creator_files, keys_file):
    run = cli(write_zip(creator_files), "--keys", keys_file)
    assert run.code == 0, run.out
    assert "creator:7" in run.out and "OK: everything checks" in run.out
    assert "receipts     4;" in run.out and "statements   2 with 6 lines" in run.out
    assert "the trusted key set" in run.out


def test_without_trusted_keys_the_summary_says_origin_is_unchecked(cli, write_zip, brand_files):
    run = cli(write_zip(brand_files))
    assert run.code == 0, run.out
    assert "integrity only" in run.out and "brand:3" in run.out


@pytest.mark.parametrize(
    "path",
    [
        "receipts/12.jsonl",
        "statements/2026-10-USD.json",
        "contracts/12/contract.txt",
        "checkpoints/000000000006.jws",
        "consent/5/1.txt",
        "keys.json",
    ],
)
def test_one_changed_byte_is_named_by_the_manifest(cli, write_zip, creator_files, keys_file, path):
    files = {**creator_files, path: flip(creator_files[path])}
    run = cli(write_zip(files), "--keys", keys_file)
    assert run.code == 1
    assert run.out.startswith(f"FAILED: archive.zip: {path}: does not match the manifest")


def test_a_changed_manifest_is_named(cli, write_zip, creator_files):
    manifest = creator_files["manifest.json"].replace(b'"subject":"creator:7"', b'"subject":"creator:8"')
    run = cli(write_zip({**creator_files, "manifest.json": manifest}))
    assert run.code == 1 and "manifest.json: differs from the payload of manifest.jws" in run.out


def test_a_changed_manifest_signature_is_named(cli, write_zip, creator_files):
    token = creator_files["manifest.jws"].decode()
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{b64url(flip(b64url_decode(signature), 5))}".encode()
    run = cli(write_zip({**creator_files, "manifest.jws": forged}))
    assert run.code == 1 and "manifest.jws: the signature does not verify with key ak-1" in run.out


def test_unlisted_and_missing_files_are_named(write_zip, creator_files, cli):
    extra = cli(write_zip({**creator_files, "receipts/99.jsonl": b""}))
    assert extra.code == 1 and "receipts/99.jsonl: in the archive but not in the manifest" in extra.out
    missing = {k: v for k, v in creator_files.items() if k != "contracts/12/contract.pdf"}
    run = cli(write_zip(missing))
    assert run.code == 1 and "contracts/12/contract.pdf: listed in the manifest but missing" in run.out


# -- tampering the manifest does not cover: the platform's own mistakes, or its key's thief


def shifted(files, path: str, amount: int, bucket: str = "payable") -> dict[str, bytes]:
    """``files`` with a statement's opening and closing ``bucket`` moved by ``amount``."""

    def shift(statement):
        statement["opening"][bucket] += amount
        statement["closing"][bucket] += amount

    return edit_json(files, path, shift)


def problem(files) -> Invalid:
    with pytest.raises(Invalid) as caught:
        verify_members(files)
    return caught.value


def test_a_forged_receipt_signature_is_named(creator_files, resign):
    lines = creator_files["receipts/12.jsonl"].decode().splitlines()
    second = json.loads(lines[1])
    body, proof, signature = second["token"].split(".")
    second["token"] = f"{body}.{proof}.{b64url(flip(b64url_decode(signature), 0))}"
    lines[1] = json.dumps(second)
    found = problem(resign({**creator_files, "receipts/12.jsonl": ("\n".join(lines) + "\n").encode()}))
    assert found.where == "receipts/12.jsonl: line 2: receipt rcpt_render-2"
    assert "signature does not verify with key rk-old" in found.reason


def test_a_receipt_with_a_changed_price_is_named(creator_files, resign):
    lines = creator_files["receipts/12.jsonl"].decode().splitlines()
    first = json.loads(lines[0])
    body, proof, signature = first["token"].split(".")
    payload = json.loads(b64url_decode(body))
    payload["price_minor"] = 1
    first["token"] = f"{b64url(canonical_json(payload))}.{proof}.{signature}"
    lines[0] = json.dumps(first)
    found = problem(resign({**creator_files, "receipts/12.jsonl": ("\n".join(lines) + "\n").encode()}))
    assert found.where.startswith("receipts/12.jsonl: line 1") and "signature does not verify" in found.reason


def test_a_changed_statement_figure_is_named(creator_files, resign):
    files = edit_json(
        creator_files, "statements/2026-10-USD.json", lambda s: s["closing"].update(payable=s["closing"]["payable"] + 1)
    )
    found = problem(resign(files))
    assert found.where == "statements/2026-10-USD.json"
    assert found.reason == "payable: opening 0 + lines 9575 = 9575, but closing says 9576"


def test_a_line_that_disagrees_with_its_entry_is_named(creator_files, resign):
    def inflate(statement):
        statement["lines"][1]["change"]["payable"] += 50  # the two-use line, seq 4
        statement["closing"]["payable"] += 50

    files = shifted(edit_json(creator_files, "statements/2026-10-USD.json", inflate), "statements/2026-11-USD.json", 50)
    found = problem(resign(files))
    assert found.where == "statements/2026-10-USD.json: line 2"
    assert found.reason == "entry 4: the line says payable +500, the entry's postings say +450"


def test_a_changed_entry_is_named(creator_files, resign):
    def rewrite(statement):
        entry = statement["lines"][0]["entry"]
        entry["content"]["memo"] = "something else"

    found = problem(resign(edit_json(creator_files, "statements/2026-10-USD.json", rewrite)))
    assert found.where == "statements/2026-10-USD.json: line 1"
    assert "content_hash" in found.reason and "does not match its content" in found.reason


def test_a_changed_entry_with_its_hash_recomputed_fails_its_inclusion_proof(creator_files, resign):
    import hashlib

    from builder import content_bytes

    def rewrite(statement):
        entry = statement["lines"][0]["entry"]
        entry["content"]["postings"] = [["creator:7:payable:USD", -9001, "USD"], ["platform:stripe:USD", 9001, "USD"]]
        entry["content_hash"] = hashlib.sha256(content_bytes(entry["content"])).hexdigest()
        statement["lines"][0]["change"]["payable"] = 9001
        statement["closing"]["payable"] += 1

    files = edit_json(creator_files, "statements/2026-10-USD.json", rewrite)
    files = shifted(files, "statements/2026-11-USD.json", 1)
    found = problem(resign(files))
    assert found.where == "statements/2026-10-USD.json: entry 1"
    assert "is not leaf 0 of the checkpoint of 6 entries" in found.reason


def test_a_removed_statement_line_is_caught_by_the_sums(creator_files, resign):
    files = edit_json(creator_files, "statements/2026-10-USD.json", lambda s: s["lines"].pop(3))  # the reserve hold
    found = problem(resign(files))
    assert found.where == "statements/2026-10-USD.json"
    assert found.reason.startswith("payable: opening 0 + lines 9675 = 9675, but closing says 9575")


def test_a_removed_use_line_is_caught_even_when_the_sums_are_fixed(creator_files, resign):
    def drop(statement):
        line = statement["lines"].pop(2)  # seq 5, one use
        statement["closing"]["payable"] -= line["change"]["payable"]

    files = edit_json(creator_files, "statements/2026-10-USD.json", drop)
    files = shifted(files, "statements/2026-11-USD.json", -225)
    found = problem(resign(files))
    assert found.where == "statements/2026-10-USD.json"
    assert found.reason == "receipt rcpt_render-3 was issued in 2026-10 but is on no line of this statement"


def test_a_broken_month_to_month_chain_is_named(creator_files, resign):
    files = shifted(creator_files, "statements/2026-11-USD.json", -100, "reserve")
    found = problem(resign(files))
    assert found.where == "statements/2026-11-USD.json" and "but 2026-10 closed with" in found.reason


def test_a_changed_contract_text_is_named(creator_files, resign):
    text = creator_files["contracts/12/contract.txt"].replace(b"Territory: US", b"Territory: WW")
    found = problem(resign({**creator_files, "contracts/12/contract.txt": text}))
    assert found.where == "contracts/12/contract.txt"
    assert found.reason.startswith("contract.txt has sha256 ") and "but the attested contract is" in found.reason


def test_a_receipt_under_another_contract_is_named(world, creator_files, resign):
    other = scenario.attestation(world, text_sha="11" * 32)
    files = {
        **creator_files,
        "contracts/12/contract.txt": b"another text",
        "contracts/12/attestation.jws": other.encode(),
    }
    found = problem(resign(files))
    assert found.where == "contracts/12/contract.txt"  # the attestation does not match the text either
    assert "but the attested contract is 1111" in found.reason


def test_a_checkpoint_signed_with_the_wrong_key_is_named(world, creator_files, resign):
    payload = world.book.checkpoint_payload(6, "2026-11-01T00:10:00Z", "ak-1")
    forged = world.platform.jws("ak-1", "cameo-checkpoint", canonical_json(payload)).encode()
    found = problem(resign({**creator_files, "checkpoints/000000000006.jws": forged}))
    assert found.where == "checkpoints/000000000006.jws"
    assert found.reason == "key ak-1 is a archives key, not a checkpoints key"


def test_a_rewritten_history_is_caught_by_the_consistency_proof(world, creator_files, resign):
    """The platform re-writes someone else's old entry (seq 2) and signs a new tree: the
    creator's entries still prove into it, but it does not extend the old checkpoint."""
    rewritten = Book()
    for entry in world.book.entries:
        content = dict(entry.content)
        if entry.seq == 2:
            content["memo"] = "rewritten"
        rewritten.post(
            entry.seq,
            entry.posted_at,
            key=content["idempotency_key"],
            kind=content["kind"],
            effective_at=content["effective_at"],
            postings=content["postings"],
            memo=content["memo"],
            metadata=content["metadata"],
            reverses=content["reverses"],
        )
    checkpoint = world.platform.jws(
        "ck-1", "cameo-checkpoint", canonical_json(rewritten.checkpoint_payload(9, "2026-11-05T00:10:00Z", "ck-1"))
    ).encode()
    files = {
        **creator_files,
        "checkpoints/000000000009.jws": checkpoint,
        "checkpoints/consistency/6-9.json": json_file(rewritten.consistency(6, 9)),
    }
    files = edit_json(
        files,
        "statements/2026-11-USD.json",
        lambda s: [
            line.update(
                entry=rewritten.entries[rewritten.index(line["seq"])].archived(),
                proof=rewritten.inclusion(line["seq"], 9, "checkpoints/000000000009.jws"),
            )
            for line in s["lines"]
        ],
    )
    found = problem(resign(files))
    assert found.where == "checkpoints/consistency/6-9.json"
    assert found.reason == "the tree of 9 does not extend the tree of 6: history was rewritten"


def test_a_missing_consistency_proof_is_named(creator_files, resign):
    files = {k: v for k, v in creator_files.items() if k != "checkpoints/consistency/6-9.json"}
    found = problem(resign(files))
    assert found.where == "checkpoints/000000000009.jws" and "no consistency proof" in found.reason


def test_a_statement_in_another_partys_archive_is_named(creator_files, brand_files, resign):
    files = {**creator_files, "statements/2026-11-USD.json": brand_files["statements/2026-11-USD.json"]}
    found = problem(resign(files))
    assert found.where == "statements/2026-11-USD.json"
    assert found.reason == "a statement of brand 3 in creator:7's archive"


def test_an_objection_naming_an_unknown_receipt_is_named(creator_files, resign):
    files = edit_json(creator_files, "objections/obj_1.json", lambda o: o.update(receipt_id="rcpt_nope"))
    found = problem(resign(files))
    assert found.where == "objections/obj_1.json" and "rcpt_nope" in found.reason


def test_a_file_outside_the_format_is_refused(creator_files, resign):
    found = problem(resign({**creator_files, "notes/hello.txt": b"hi"}))
    assert found.where == "notes/hello.txt" and found.reason == "not a file the archive format has"


def test_an_archive_for_another_issuer_is_refused_against_trusted_keys(world, creator_files):
    from cameo_verify.keys import load_key_set

    other = dict(world.platform.key_set(), issuer="https://elsewhere.example")
    with pytest.raises(Invalid) as caught:
        verify_members(creator_files, load_key_set(json.dumps(other)))
    assert caught.value.where == "manifest.json"
    assert caught.value.reason == "issued by 'https://cameo.example', but the key set is https://elsewhere.example's"


def test_a_trusted_key_set_that_disagrees_with_the_archive_is_named(world, creator_files, keys_file, cli, write_zip):
    keys = json.loads(keys_file.read_text())
    assert [k["kid"] for k in keys["keys"]][3:] == ["rk-new", "rk-old"]
    keys["keys"][3]["x"] = keys["keys"][4]["x"]
    keys_file.write_text(json.dumps(keys))
    run = cli(write_zip(creator_files), "--keys", keys_file)
    assert run.code == 1 and "keys.json: key rk-new differs from the trusted key set" in run.out


def test_the_archive_unsigned_by_an_archive_key_is_refused(world, creator_files):
    files = manifest_files(
        creator_files, world.platform, kid="ck-1", subject="creator:7", issued_at="2026-11-06T00:00:00Z"
    )
    found = problem(files)
    assert found.where == "manifest.jws" and found.reason == "key ck-1 is a checkpoints key, not a archives key"


def test_a_checkpoint_under_another_trees_name_is_named(creator_files, resign):
    files = {**creator_files, "checkpoints/000000000007.jws": creator_files["checkpoints/000000000006.jws"]}
    del files["checkpoints/000000000006.jws"]
    found = problem(resign(files))
    assert found.where == "checkpoints/000000000007.jws"
    assert found.reason == "a checkpoint of 6 entries must be named checkpoints/000000000006.jws"
