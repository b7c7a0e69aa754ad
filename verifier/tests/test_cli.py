"""The command line: single documents, two archives, and bad usage (exit 2)."""

from __future__ import annotations

import json

import scenario
from builder import sign_receipts


def test_no_arguments_is_bad_usage(cli):
    run = cli()
    assert run.code == 2 and "ARCHIVE.zip" in run.err


def test_a_missing_archive_is_bad_usage(cli, tmp_path):
    run = cli(tmp_path / "nope.zip")
    assert run.code == 2 and "no such file" in run.err


def test_a_key_file_that_is_not_a_key_set_is_bad_usage(cli, write_zip, creator_files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"kty": "RSA"}]}')
    run = cli(write_zip(creator_files), "--keys", bad)
    assert run.code == 2 and "is not a key set" in run.err


def test_three_archives_are_bad_usage(cli, write_zip, creator_files):
    path = write_zip(creator_files)
    assert cli(path, path, path).code == 2


def test_a_file_that_is_not_a_zip_fails(cli, tmp_path):
    path = tmp_path / "archive.zip"
    path.write_bytes(b"not a zip")
    run = cli(path)
    assert run.code == 1 and "not a readable zip archive" in run.out


def test_receipt_command(cli, world, keys_file, tmp_path):
    rid, token = world.receipts[0]
    run = cli("receipt", token, "--keys", keys_file)
    assert run.code == 0 and f"OK: receipt {rid} (v2, key rk-old)" in run.out and "price_minor" in run.out
    (tmp_path / "receipt.txt").write_text(token + "\n")
    assert cli("receipt", f"@{tmp_path / 'receipt.txt'}", "--keys", keys_file).code == 0
    assert cli("receipt", token).code == 2  # no key set
    run = cli("receipt", token[:-4] + "AAAA", "--keys", keys_file)
    assert run.code == 1 and "FAILED: the receipt's signature does not verify with key rk-old" in run.out


def test_a_receipt_from_a_retired_key_is_refused_while_its_old_receipts_verify(cli, world, keys_file):
    [late], _ = sign_receipts(
        world.platform, "rk-old", [scenario.payload("rcpt_late", "render-9", "2026-10-22T12:00:00.000000Z")]
    )
    run = cli("receipt", late, "--keys", keys_file)
    assert run.code == 1
    assert run.out.strip() == (
        "FAILED: key rk-old was retired at 2026-10-20T00:00:00.000000Z; "
        "a signature claiming 2026-10-22T12:00:00.000000Z is refused"
    )
    old = [token for rid, token in world.receipts if rid in ("rcpt_render-1", "rcpt_render-2")]
    assert all(cli("receipt", token, "--keys", keys_file).code == 0 for token in old)


def test_a_retired_keys_receipt_in_an_archive_is_named(world, creator_files, keys_file, cli, write_zip, resign):
    [late], _ = sign_receipts(
        world.platform, "rk-old", [scenario.payload("rcpt_late", "render-9", "2026-12-22T12:00:00.000000Z")]
    )
    line = json.dumps({"receipt_id": "rcpt_late", "token": late}) + "\n"
    files = resign({**creator_files, "receipts/12.jsonl": creator_files["receipts/12.jsonl"] + line.encode()})
    run = cli(write_zip(files), "--keys", keys_file)
    assert run.code == 1
    assert "receipts/12.jsonl: line 5: receipt rcpt_late: key rk-old was retired at" in run.out


def test_checkpoint_and_consistency_commands(cli, creator_files, keys_file, tmp_path):
    for name in ("checkpoints/000000000006.jws", "checkpoints/000000000009.jws", "checkpoints/consistency/6-9.json"):
        (tmp_path / name.split("/")[-1]).write_bytes(creator_files[name])
    run = cli("checkpoint", tmp_path / "000000000009.jws", "--keys", keys_file)
    assert run.code == 0 and "9 entries" in run.out and "head seq 10" in run.out
    run = cli(
        "consistency",
        tmp_path / "000000000006.jws",
        tmp_path / "000000000009.jws",
        "--proof",
        tmp_path / "6-9.json",
        "--keys",
        keys_file,
    )
    assert run.code == 0 and "extends the tree of 6" in run.out
    run = cli(
        "consistency",
        tmp_path / "000000000009.jws",
        tmp_path / "000000000006.jws",
        "--proof",
        tmp_path / "6-9.json",
        "--keys",
        keys_file,
    )
    assert run.code == 1 and "the proof is from 6 to 9 entries, the checkpoints hold 9 and 6" in run.out


def test_two_archives_that_agree(cli, write_zip, creator_files, brand_files, keys_file):
    run = cli(write_zip(creator_files, "creator.zip"), write_zip(brand_files, "brand.zip"), "--keys", keys_file)
    assert run.code == 0, run.out
    assert "AGREE" in run.out and run.out.count("OK: everything checks") == 2


def test_two_archives_that_disagree_are_named(cli, write_zip, creator_files, keys_file):
    """The brand's archive comes from books where the November report held two uses."""
    other = scenario.build()
    other.book.entries = [e for e in other.book.entries if e.seq < 9]
    other.receipts = [r for r in other.receipts if r[0] != "rcpt_render-4"]
    other.platform = scenario.build().platform
    other.report(9, "2026-11-03T12:00:00.000000Z", "rk-new", [("render-4", ""), ("render-5", "")])
    other.book.post(
        10,
        "2026-11-04T08:00:00.000000Z",
        key="licence-sale:15",
        kind="licence.sale",
        effective_at="2026-11-04T08:00:00.000000Z",
        postings=[["platform:stripe:USD", 300, "USD"], ["creator:9:payable:USD", -300, "USD"]],
    )
    brand = scenario.archive_files(other, "brand")
    run = cli("--cross", write_zip(creator_files, "creator.zip"), write_zip(brand, "brand.zip"), "--keys", keys_file)
    assert run.code == 1, run.out
    assert "DIFFERENT:" in run.out
    assert "licence 12: receipt rcpt_render-5 is in brand.zip but not in creator.zip" in run.out
    assert (
        "licence 12: uses total 1000 USD (minor units) in creator.zip, 1250 USD (minor units) in brand.zip"
    ) in run.out
    assert "entry 9 differs between the archives" in run.out
    assert "the checkpoints of 9 entries have different roots" in run.out


def test_two_archives_that_share_no_licence(cli, write_zip, creator_files, resign):
    # an archive without licence 12 (nor its statements) is still a valid archive
    other = {
        k: v
        for k, v in creator_files.items()
        if not k.startswith(("contracts/", "receipts/", "statements/", "objections/"))
    }
    run = cli(write_zip(creator_files, "a.zip"), write_zip(resign(other), "b.zip"))
    assert run.code == 1 and "the archives share no licence" in run.out
