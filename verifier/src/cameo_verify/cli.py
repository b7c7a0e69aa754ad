"""``cameo-verify``: check archives, receipts, checkpoints and media offline.

    cameo-verify ARCHIVE.zip [--keys KEYS.json]
    cameo-verify ARCHIVE_A.zip ARCHIVE_B.zip [--keys KEYS.json]     (or --cross A B)
    cameo-verify receipt TOKEN|@FILE --keys KEYS.json
    cameo-verify checkpoint FILE.jws --keys KEYS.json
    cameo-verify consistency OLD.jws NEW.jws --proof PROOF.json --keys KEYS.json
    cameo-verify media FILE --keys KEYS.json                          (needs the c2pa extra)

Exit status: 0 when everything checks, 1 naming the first thing that does not (or,
comparing two archives, every difference), 2 for bad usage (unknown options, files
that cannot be read, a key file that is not a key set).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .archive import ArchiveReport, verify_archive
from .checkpoints import audit_path, check_checkpoint_consistency, verify_checkpoint
from .cross import differences
from .encoding import Invalid, json_object
from .keys import KeySet, load_key_set
from .media import C2paMissing, verify_media
from .receipts import verify_receipt

COMMANDS = ("receipt", "checkpoint", "consistency", "media")


class Usage(Exception):
    """Bad usage: exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:
            return _COMMANDS[args[0]](args[1:])
        return _archives(args)
    except Usage as problem:
        print(f"cameo-verify: {problem}", file=sys.stderr)
        return 2
    except SystemExit as stop:  # argparse: --help (0) or bad usage (2), already printed
        return stop.code if isinstance(stop.code, int) else 2
    except Invalid as problem:
        print(f"FAILED: {problem}")
        return 1


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"cameo-verify {__version__}")
    return parser


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as problem:
        raise Usage(f"cannot read {what} {path}: {problem.strerror or problem}") from None


def _keys(path: str | None, *, required: bool) -> KeySet | None:
    if path is None:
        if required:
            raise Usage("--keys KEYS.json is required (the platform's published key set)")
        return None
    try:
        return load_key_set(_read(path, "the key set"))
    except Invalid as problem:
        raise Usage(f"{path} is not a key set: {problem}") from None


# -- archives --------------------------------------------------------------------------


def _archives(args: list[str]) -> int:
    parser = _parser("cameo-verify", "Check a Cameo Exchange archive offline, or compare two.")
    parser.add_argument("archives", nargs="+", metavar="ARCHIVE.zip")
    parser.add_argument(
        "--keys",
        metavar="KEYS.json",
        help="the platform's key set you trust "
        "(default: the archive's own keys.json, which proves integrity but not origin)",
    )
    parser.add_argument("--cross", action="store_true", help="compare two archives of the same licences")
    options = parser.parse_args(args)
    if len(options.archives) > 2 or (options.cross and len(options.archives) != 2):
        raise Usage("give one archive, or two to compare")
    keys = _keys(options.keys, required=False)
    reports = []
    for path in options.archives:
        if not Path(path).is_file():
            raise Usage(f"no such file: {path}")
        try:
            reports.append(verify_archive(path, keys))
        except Invalid as problem:
            print(f"FAILED: {Path(path).name}: {problem}")
            return 1
        _summary(path, reports[-1], options.keys)
    if len(reports) == 2:
        found = differences(*reports, names=(Path(options.archives[0]).name, Path(options.archives[1]).name))
        if found:
            print("DIFFERENT:")
            for difference in found:
                print(f"  - {difference}")
            return 1
        print("AGREE: both archives hold the same receipts, amounts and entries for their shared licences")
    return 0


def _summary(path: str, report: ArchiveReport, keys_path: str | None) -> None:
    lines = sum(len(s.lines) for s in report.statements)
    sizes = ", ".join(str(c.tree_size) for c in sorted(report.checkpoints, key=lambda c: c.tree_size)) or "none"
    print(f"Archive {Path(path).name}: {report.subject}, issued {report.issued_at} by {report.issuer or '?'}")
    trust = (
        f"the trusted key set {keys_path}"
        if report.keys_trusted
        else "the archive's own keys.json (integrity only; pass --keys to check origin)"
    )
    print(f"  keys         {trust}")
    print(f"  manifest     signed; {report.files - 2} files, every size and sha256 matches")
    print(f"  checkpoints  {len(report.checkpoints)} (tree sizes {sizes}); each extends the one before")
    print(f"  contracts    {len(report.contracts)}; texts match their attested signatures")
    print(f"  receipts     {len(report.receipts)}; signatures, Merkle proofs and keys valid")
    print(f"  statements   {len(report.statements)} with {lines} lines; sums, entries and inclusion proofs check")
    print(f"  consent      {report.consents} records; objections {report.objections}")
    print("OK: everything checks")


# -- single documents ------------------------------------------------------------------


def _document(
    args: list[str], command: str, description: str, *files: str, proof: bool = False
) -> tuple[argparse.Namespace, KeySet]:
    """Parse a single-document command: its positional ``files``, ``--keys`` (required), ``--proof``."""
    parser = _parser(f"cameo-verify {command}", description)
    for metavar in files:
        parser.add_argument(metavar.split(".")[0].split("|")[0].lower(), metavar=metavar)
    if proof:
        parser.add_argument("--proof", metavar="PROOF.json", required=True)
    parser.add_argument("--keys", metavar="KEYS.json")
    options = parser.parse_args(args)
    return options, _keys(options.keys, required=True)


def _receipt(args: list[str]) -> int:
    options, keys = _document(args, "receipt", "Check one receipt offline.", "TOKEN|@FILE")
    token = options.token
    if token.startswith("@"):
        token = _read(token[1:], "the receipt").decode("ascii", "replace")
    receipt = verify_receipt(token.strip(), keys)
    payload = receipt.payload
    print(f"OK: receipt {payload.get('receipt_id')} (v{receipt.version}, key {payload.get('kid')})")
    for name in (
        "iss",
        "licence_id",
        "licence_contract_sha256",
        "brand_org_id",
        "cameo_id",
        "event_id",
        "kind",
        "quantity",
        "territory",
        "media",
        "price_minor",
        "currency",
        "occurred_at",
        "issued_at",
    ):
        if name in payload:
            print(f"  {name:<24}{payload[name]}")
    if receipt.root is not None:
        print(f"  {'merkle_root':<24}{receipt.root.hex()}")
    return 0


def _checkpoint(args: list[str]) -> int:
    options, keys = _document(args, "checkpoint", "Check one signed checkpoint.", "FILE.jws")
    checkpoint = verify_checkpoint(_read(options.file, "the checkpoint"), keys)
    print(
        f"OK: checkpoint of {checkpoint.origin}: {checkpoint.tree_size} entries, root {checkpoint.root.hex()}, "
        f"head seq {checkpoint.head_seq} ({checkpoint.head_hash}), issued {checkpoint.issued_at} "
        f"with key {checkpoint.kid}"
    )
    return 0


def _consistency(args: list[str]) -> int:
    options, keys = _document(
        args, "consistency", "Check that a later checkpoint extends an earlier one.", "OLD.jws", "NEW.jws", proof=True
    )
    old = verify_checkpoint(_read(options.old, "the old checkpoint"), keys)
    new = verify_checkpoint(_read(options.new, "the new checkpoint"), keys)
    proof = json_object(_read(options.proof, "the proof"), "the proof")
    if (proof.get("old_size"), proof.get("new_size")) != (old.tree_size, new.tree_size):
        raise Invalid(
            f"the proof is from {proof.get('old_size')} to {proof.get('new_size')} entries, "
            f"the checkpoints hold {old.tree_size} and {new.tree_size}"
        )
    check_checkpoint_consistency(old, new, audit_path(proof.get("proof")))
    print(f"OK: the tree of {new.tree_size} entries extends the tree of {old.tree_size}")
    return 0


def _media(args: list[str]) -> int:
    options, keys = _document(args, "media", "Check the receipt in a media file's C2PA manifest.", "FILE")
    path = Path(options.file)
    if not path.is_file():
        raise Usage(f"no such file: {path}")
    try:
        checked = verify_media(path, keys)
    except C2paMissing as problem:
        raise Usage(str(problem)) from None
    print(
        f"OK: {path.name} is the content receipt {checked.receipt.receipt_id} licensed "
        f"(sha256 {checked.content_sha256}); C2PA manifest {checked.c2pa_state}"
    )
    return 0


_COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "receipt": _receipt,
    "checkpoint": _checkpoint,
    "consistency": _consistency,
    "media": _media,
}
