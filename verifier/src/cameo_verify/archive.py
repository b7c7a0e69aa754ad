"""A whole archive, checked offline (docs/formats/archive.md).

The archive is one zip.  ``manifest.json`` lists every other file with its size and
sha256 and is signed by the platform's archive key (``manifest.jws``, whose payload is
manifest.json's exact bytes), so once the manifest verifies, every byte of the archive
is the platform's.  Then each kind of content is checked for what it claims:

1. keys — ``keys.json``, or the key set the user trusts (``--keys``), which the
   archive's own copy may not contradict;
2. the manifest — signature, and every file present, listed, of its size and hash;
3. checkpoints — signatures, and each later tree extends the earlier (consistency);
4. contracts — the text's hash and the platform's attestation of the signatures;
5. consent evidence — the statement text's hash;
6. receipts — each one's signature, Merkle proof and key validity, and its contract;
7. statements — sums, line ↔ entry agreement, inclusion proofs, the receipts of
   every use line, one month's closing = the next month's opening;
8. objections — what they name exists.

The first thing that does not check raises :class:`Invalid` naming the file (and the
line) and the reason; nothing after it is looked at.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from .checkpoints import Checkpoint, audit_path, check_checkpoint_consistency, check_inclusion, verify_checkpoint
from .contracts import Contract, verify_contract
from .encoding import Invalid, field, hex64, is_int, json_object, parse_time, sha256_hex, strict_json
from .entries import SealedEntry
from .evidence import check_consent, check_objection
from .jws import open_signed, payload_bytes
from .keys import KeySet, check_agrees, load_key_set
from .receipts import Receipt, verify_receipt
from .statements import USE_KIND, Statement, month_bounds, read_statement

MANIFEST, MANIFEST_JWS, KEYS = "manifest.json", "manifest.jws", "keys.json"
MANIFEST_JWS_TYPE = "cameo-archive-manifest"
MANIFEST_TYPE = "cameo-exchange/archive-manifest"
MAX_TOTAL_SIZE = 1 << 30  # an archive that unpacks to more than 1 GiB is refused (zip bombs)
SUBJECT = re.compile(r"(creator|brand):(\d+)")
LAYOUT = {  # every file an archive may hold; anything else is refused
    "keys": re.compile(r"keys\.json"),
    "readme": re.compile(r"README\.txt"),
    "checkpoint": re.compile(r"checkpoints/[A-Za-z0-9_.-]+\.jws"),
    "consistency": re.compile(r"checkpoints/consistency/(\d+)-(\d+)\.json"),
    "consent": re.compile(r"consent/(\d+)/(\d+)\.json"),
    "consent_text": re.compile(r"consent/(\d+)/(\d+)\.txt"),
    "contract": re.compile(r"contracts/(\d+)/contract\.txt"),
    "contract_pdf": re.compile(r"contracts/(\d+)/contract\.pdf"),
    "attestation": re.compile(r"contracts/(\d+)/attestation\.jws"),
    "receipts": re.compile(r"receipts/(\d+)\.jsonl"),
    "statement": re.compile(r"statements/(\d{4}-\d{2}-[A-Z]{3}\.json)"),
    "objection": re.compile(r"objections/([A-Za-z0-9_-]{1,64})\.json"),
}
T = TypeVar("T")


@dataclass(frozen=True)
class ArchiveReport:
    """What a verified archive holds, for the summary and for comparing two archives."""

    issuer: str | None
    subject: str
    issued_at: str
    keys_trusted: bool  # checked against a key set the user supplied, not only the archive's own
    files: int
    checkpoints: tuple[Checkpoint, ...]
    contracts: Mapping[int, Contract]
    receipts: Mapping[str, Receipt]
    statements: tuple[Statement, ...]
    entries: Mapping[int, SealedEntry]
    consents: int
    objections: int


def located(where: str, check: Callable[[], T]) -> T:
    """Run ``check``; a failure is reported at ``where``."""
    try:
        return check()
    except Invalid as problem:
        raise problem.at(where) from None


def read_members(path: str | Path) -> dict[str, bytes]:
    name = Path(path).name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as problem:
        raise Invalid(f"not a readable zip archive ({problem})", name) from None
    members: dict[str, bytes] = {}
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if sum(info.file_size for info in infos) > MAX_TOTAL_SIZE:
            raise Invalid("the archive unpacks to more than 1 GiB", name)
        for info in infos:
            member = info.filename
            if member.startswith("/") or "\\" in member or any(part in ("", ".", "..") for part in member.split("/")):
                raise Invalid("not a plain relative path", member)
            if member in members:
                raise Invalid("the archive holds this path twice", member)
            try:
                members[member] = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, zlib.error) as problem:
                # a bad CRC, an encrypted member, an unknown compression method
                raise Invalid(f"cannot be read ({problem})", member) from None
    return members


def verify_archive(path: str | Path, trusted: KeySet | None = None) -> ArchiveReport:
    return verify_members(read_members(path), trusted)


def verify_members(files: Mapping[str, bytes], trusted: KeySet | None = None) -> ArchiveReport:
    for required in (KEYS, MANIFEST, MANIFEST_JWS):
        if required not in files:
            raise Invalid("missing", required)
    # with a trusted key set the manifest is checked first, so a changed keys.json is
    # named as a changed file; without one, the archive's keys are all there is
    keys = trusted or located(KEYS, lambda: load_key_set(files[KEYS]))
    manifest = _manifest(files, keys)
    kinds = _check_listing(files, manifest)
    if trusted is not None:
        located(KEYS, lambda: check_agrees(trusted, load_key_set(files[KEYS])))

    def each(kind: str) -> list[tuple[str, re.Match[str]]]:
        return sorted((name, found) for name, (k, found) in kinds.items() if k == kind)

    checkpoints = _checkpoints(files, each("checkpoint"), each("consistency"), keys)
    contracts = {
        int(found[1]): located(
            name,
            lambda n=name, f=found: verify_contract(
                int(f[1]), files[n], _required(files, f"contracts/{f[1]}/attestation.jws"), keys
            ),
        )
        for name, found in each("contract")
    }
    for name, found in each("attestation"):
        if int(found[1]) not in contracts:
            raise Invalid("an attestation without its contract.txt", name)
    for name, found in each("consent"):
        located(
            name,
            lambda n=name, f=found: check_consent(
                int(f[1]), int(f[2]), strict_json(files[n]), _required(files, n[: -len(".json")] + ".txt")
            ),
        )
    receipts = _receipts(files, each("receipts"), contracts, keys)
    statements, entries = _statements(files, each("statement"), manifest["subject"], checkpoints, receipts)
    for name, found in each("objection"):
        located(name, lambda n=name, f=found: check_objection(f[1], strict_json(files[n]), receipts))
    return ArchiveReport(
        manifest["iss"],
        manifest["subject"],
        manifest["issued_at"],
        trusted is not None,
        len(files),
        tuple(checkpoints.values()),
        contracts,
        receipts,
        tuple(statements),
        entries,
        len(each("consent")),
        len(each("objection")),
    )


def _required(files: Mapping[str, bytes], name: str) -> bytes:
    if name not in files:
        raise Invalid(f"{name} is missing")
    return files[name]


# -- the manifest ----------------------------------------------------------------------


def _manifest(files: Mapping[str, bytes], keys: KeySet) -> dict[str, Any]:
    located(
        MANIFEST_JWS,
        lambda: open_signed(files[MANIFEST_JWS], keys, typ=MANIFEST_JWS_TYPE, use="archives", time_field="issued_at"),
    )
    if payload_bytes(files[MANIFEST_JWS]) != files[MANIFEST]:
        raise Invalid("differs from the payload of manifest.jws", MANIFEST)
    manifest = located(MANIFEST, lambda: json_object(files[MANIFEST], "the manifest"))
    if manifest.get("typ") != MANIFEST_TYPE or manifest.get("v") != 1:
        raise Invalid(f"not a {MANIFEST_TYPE} of version 1", MANIFEST)
    if keys.issuer is not None and manifest.get("iss") != keys.issuer:
        raise Invalid(f"issued by {manifest.get('iss')!r}, but the key set is {keys.issuer}'s", MANIFEST)
    if not isinstance(manifest.get("subject"), str) or not SUBJECT.fullmatch(manifest["subject"]):
        raise Invalid("subject must be creator:<id> or brand:<id>", MANIFEST)
    located(MANIFEST, lambda: field(manifest, "archive_id", str, "the manifest"))
    return manifest


def _check_listing(files: Mapping[str, bytes], manifest: dict[str, Any]) -> dict[str, tuple[str, re.Match[str]]]:
    """Every file listed, present, of its size and hash, and of a kind the format knows."""
    listed: dict[str, dict[str, Any]] = {}
    for item in located(MANIFEST, lambda: field(manifest, "files", list, "the manifest")):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not is_int(item.get("size")):
            raise Invalid("each file is {path, size, sha256}", MANIFEST)
        located(MANIFEST, lambda i=item: hex64(i.get("sha256"), f"{i['path']}: sha256"))
        if item["path"] in listed or item["path"] in (MANIFEST, MANIFEST_JWS):
            raise Invalid(f"lists {item['path']} twice or lists itself", MANIFEST)
        listed[item["path"]] = item
    for name in sorted(files):
        if name not in listed and name not in (MANIFEST, MANIFEST_JWS):
            raise Invalid("in the archive but not in the manifest", name)
    kinds = {}
    for name, item in sorted(listed.items()):
        if name not in files:
            raise Invalid("listed in the manifest but missing from the archive", name)
        data = files[name]
        if len(data) != item["size"] or sha256_hex(data) != item["sha256"]:
            raise Invalid(
                f"does not match the manifest (size {len(data)}, sha256 {sha256_hex(data)}; "
                f"the manifest says {item['size']}, {item['sha256']}): the file was changed",
                name,
            )
        kind = next(((kind, found) for kind, pattern in LAYOUT.items() if (found := pattern.fullmatch(name))), None)
        if kind is None:
            raise Invalid("not a file the archive format has", name)
        kinds[name] = kind
    return kinds


# -- checkpoints -----------------------------------------------------------------------


def _checkpoints(files, checkpoint_files, proof_files, keys: KeySet) -> dict[str, Checkpoint]:
    checkpoints = {
        name: located(name, lambda n=name: verify_checkpoint(files[n], keys)) for name, _ in checkpoint_files
    }
    for name, checkpoint in checkpoints.items():
        if name != f"checkpoints/{checkpoint.tree_size:012d}.jws":
            raise Invalid(
                f"a checkpoint of {checkpoint.tree_size} entries must be named "
                f"checkpoints/{checkpoint.tree_size:012d}.jws",
                name,
            )
    proofs = {(int(found[1]), int(found[2])): name for name, found in proof_files}
    ordered = sorted(checkpoints.items(), key=lambda item: (item[1].tree_size, parse_time(item[1].issued_at, "")))
    for (old_name, old), (new_name, new) in pairwise(ordered):
        if parse_time(new.issued_at, "") < parse_time(old.issued_at, ""):
            raise Invalid(f"issued before {old_name}, yet its tree is larger: history was rewritten", new_name)
        if new.tree_size == old.tree_size or old.tree_size == 0:
            located(new_name, lambda o=old, n=new: check_checkpoint_consistency(o, n, []))
            continue
        proof_name = proofs.get((old.tree_size, new.tree_size))
        if proof_name is None:
            raise Invalid(
                f"no consistency proof from {old_name} (checkpoints/consistency/{old.tree_size}-{new.tree_size}.json)",
                new_name,
            )
        located(
            proof_name, lambda p=proof_name, o=old, n=new: _check_proof_file(json_object(files[p], "the proof"), o, n)
        )
    return checkpoints


def _check_proof_file(proof: dict[str, Any], old: Checkpoint, new: Checkpoint) -> None:
    if (proof.get("old_size"), proof.get("new_size")) != (old.tree_size, new.tree_size):
        raise Invalid(
            f"the proof is from {proof.get('old_size')} to {proof.get('new_size')} entries, "
            f"not from {old.tree_size} to {new.tree_size}"
        )
    check_checkpoint_consistency(old, new, audit_path(proof.get("proof")))


# -- receipts --------------------------------------------------------------------------


def _receipts(files, receipt_files, contracts: Mapping[int, Contract], keys: KeySet) -> dict[str, Receipt]:
    receipts: dict[str, Receipt] = {}
    for name, found in receipt_files:
        licence_id = int(found[1])
        if licence_id not in contracts:
            raise Invalid(f"receipts of licence {licence_id}, whose contract is not in the archive", name)
        try:
            lines = files[name].decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise Invalid("not UTF-8 text", name) from None
        for number, text in enumerate(lines, start=1):
            if text.strip():
                receipt = located(
                    f"{name}: line {number}", lambda t=text, lid=licence_id: _receipt_line(t, lid, contracts[lid], keys)
                )
                if receipt.receipt_id in receipts:
                    raise Invalid(f"receipt {receipt.receipt_id} appears twice", f"{name}: line {number}")
                receipts[receipt.receipt_id] = receipt
    return receipts


def _receipt_line(text: str, licence_id: int, contract: Contract, keys: KeySet) -> Receipt:
    line = json_object(text, "the line")
    receipt_id = field(line, "receipt_id", str, "the line")
    receipt = located(f"receipt {receipt_id}", lambda: verify_receipt(field(line, "token", str, "the line"), keys))
    payload = receipt.payload
    if payload.get("receipt_id") != receipt_id:
        raise Invalid(f"the token is receipt {payload.get('receipt_id')}, not {receipt_id}")
    if payload.get("licence_id") != licence_id:
        raise Invalid(f"receipt {receipt_id} is of licence {payload.get('licence_id')}, not {licence_id}")
    if payload.get("licence_contract_sha256") != contract.sha256:
        raise Invalid(
            f"receipt {receipt_id} names contract {payload.get('licence_contract_sha256')}, "
            f"but licence {licence_id}'s contract is {contract.sha256}"
        )
    return receipt


# -- statements ------------------------------------------------------------------------


def _statements(
    files, statement_files, subject: str, checkpoints: Mapping[str, Checkpoint], receipts: Mapping[str, Receipt]
) -> tuple[list[Statement], dict[int, SealedEntry]]:
    statements: list[Statement] = []
    entries: dict[int, SealedEntry] = {}
    leaf_of: dict[int, int] = {}
    receipt_line: dict[str, str] = {}
    for name, found in statement_files:
        statement = located(name, lambda n=name, f=found: read_statement(strict_json(files[n]), f[1]))
        if f"{statement.party_kind}:{statement.party_id}" != subject:
            raise Invalid(f"a statement of {statement.party_kind} {statement.party_id} in {subject}'s archive", name)
        for line in statement.lines:
            where = f"{name}: entry {line.seq}"
            entry = line.entry
            if entries.setdefault(line.seq, entry).hash != entry.hash:
                raise Invalid("differs from the same entry in another statement", where)
            index = located(where, lambda l=line: _prove(l, checkpoints))
            if leaf_of.setdefault(line.seq, index) != index:
                raise Invalid("has another leaf index in another statement", where)
            for receipt_id in line.receipts:
                if receipt_line.setdefault(receipt_id, where) != where:
                    raise Invalid(f"receipt {receipt_id} is also counted at {receipt_line[receipt_id]}", where)
            if entry.kind == USE_KIND:
                located(where, lambda l=line, c=statement.currency: _check_uses(l, receipts, c))
        statements.append(statement)
    by_seq = sorted(leaf_of.items())
    for (seq_a, leaf_a), (seq_b, leaf_b) in pairwise(by_seq):
        if leaf_b <= leaf_a:
            raise Invalid(
                f"entry {seq_b} is leaf {leaf_b}, not after entry {seq_a}'s leaf {leaf_a}: leaves are in seq order"
            )
    _check_continuity(statements)
    _check_every_receipt_counted(statements, receipts, receipt_line)
    return statements, entries


def _prove(line, checkpoints: Mapping[str, Checkpoint]) -> int:
    proof = line.proof
    name = proof.get("checkpoint")
    if name not in checkpoints:
        raise Invalid(f"its proof names checkpoint {name!r}, which is not in the archive")
    check_inclusion(line.entry, proof.get("leaf_index"), audit_path(proof.get("audit_path")), checkpoints[name])
    return proof["leaf_index"]


def _check_uses(line, receipts: Mapping[str, Receipt], currency: str) -> None:
    """A use entry's receipts: in the archive, of its licence, under its receipts_root, priced at its total."""
    meta = line.entry.metadata
    total = 0
    for receipt_id in line.receipts:
        receipt = receipts.get(receipt_id)
        if receipt is None:
            raise Invalid(f"receipt {receipt_id} is not in the archive")
        payload = receipt.payload
        if payload.get("licence_id") != meta.get("licence_id"):
            raise Invalid(
                f"receipt {receipt_id} is of licence {payload.get('licence_id')}, "
                f"the entry of licence {meta.get('licence_id')}"
            )
        if receipt.root is not None and receipt.root.hex() != meta.get("receipts_root"):
            raise Invalid(
                f"receipt {receipt_id} hangs from Merkle root {receipt.root.hex()}, "
                f"the entry anchors {meta.get('receipts_root')}"
            )
        if not is_int(payload.get("price_minor")) or payload.get("currency") != currency:
            raise Invalid(f"receipt {receipt_id} has no price in {currency}")
        total += payload["price_minor"]
    if is_int(meta.get("uses")) and meta["uses"] != len(line.receipts):
        raise Invalid(f"the entry holds {meta['uses']} uses, the line names {len(line.receipts)} receipts")
    charged = sum(p.amount for p in line.entry.postings if p.amount > 0 and p.currency == currency)
    if total != charged:
        raise Invalid(f"its receipts add up to {total}, the entry charges {charged}")


def _check_every_receipt_counted(
    statements: list[Statement], receipts: Mapping[str, Receipt], counted: Mapping[str, str]
) -> None:
    """A use issued in a month the archive has a statement for is on one of its lines (a
    use entry is effective at the instant its receipts are issued)."""
    months = {(s.period, s.currency) for s in statements}
    for receipt_id, receipt in sorted(receipts.items()):
        month = str(receipt.payload.get("issued_at", ""))[:7]
        currency = receipt.payload.get("currency")
        if (month, currency) in months and receipt_id not in counted:
            raise Invalid(
                f"receipt {receipt_id} was issued in {month} but is on no line of this statement",
                f"statements/{month}-{currency}.json",
            )


def _check_continuity(statements: list[Statement]) -> None:
    series: dict[str, list[Statement]] = defaultdict(list)
    for statement in statements:
        series[statement.currency].append(statement)
    for currency, months in series.items():
        months.sort(key=lambda s: s.period)
        for before, after in pairwise(months):
            if month_bounds(before.period)[1] == month_bounds(after.period)[0] and before.closing != after.opening:
                raise Invalid(
                    f"opens with {dict(after.opening)}, but {before.period} closed with {dict(before.closing)}",
                    f"statements/{after.period}-{currency}.json",
                )
