"""One small marketplace, archived for its creator and its brand (docs/formats/archive.md).

Creator 7 licenses cameo 5 to brand 3 under licence 12 (USD).  October: the licence
fee (seq 1), two uses in one report signed with the old receipt key (seq 4), a use
signed with the new key after rotation (seq 5), a reserve hold (seq 7); November:
the payout (seq 8) and one more use (seq 9).  Other people's entries (seqs 2, 6, 10)
and a rolled-back seq (3) sit in between, so proofs are real proofs.  Checkpoints
after seq 7 (6 entries) and seq 10 (9 entries), with the consistency proof.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from builder import Book, Platform, json_file, manifest_files, receipt_payload, sign_receipts

from cameo_verify.encoding import canonical_json

CREATOR, BRAND, CAMEO, LICENCE = 7, 3, 5, 12
CONTRACT_TEXT = "Licence 12 — cameo «Ada» for brand Northwind.\nMedia: video. Territory: US.\n".encode()
CONTRACT_SHA = hashlib.sha256(CONTRACT_TEXT).hexdigest()
CONSENT_TEXT = b"I, Ada, consent to the licensing of my likeness under Cameo Exchange's standard contracts.\n"
OLD_RETIRED = "2026-10-20T00:00:00Z"


def platform() -> Platform:
    p = Platform()
    p.add_key("rk-old", "receipts", "2026-01-01T00:00:00Z", retired_at=OLD_RETIRED)
    p.add_key("rk-new", "receipts", OLD_RETIRED)
    p.add_key("ck-1", "checkpoints", "2026-01-01T00:00:00Z")
    p.add_key("ak-1", "archives", "2026-01-01T00:00:00Z")
    p.add_key("ctk-1", "contracts", "2026-01-01T00:00:00Z")
    return p


def payload(receipt_id: str, event: str, issued_at: str, price: int = 250) -> dict[str, Any]:
    return receipt_payload(
        receipt_id,
        licence_id=LICENCE,
        contract_sha256=CONTRACT_SHA,
        brand=BRAND,
        cameo=CAMEO,
        event=event,
        price=price,
        occurred_at=issued_at.replace("12:00", "11:00"),
        issued_at=issued_at,
    )


def use_postings(price_total: int) -> list[list[Any]]:
    commission = price_total // 10
    return [
        [f"brand:{BRAND}:receivable:USD", price_total, "USD"],
        [f"creator:{CREATOR}:payable:USD", -(price_total - commission), "USD"],
        ["platform:revenue:commission:USD", -commission, "USD"],
    ]


@dataclass
class Scenario:
    platform: Platform = field(default_factory=platform)
    book: Book = field(default_factory=Book)
    receipts: list[tuple[str, str]] = field(default_factory=list)  # (receipt id, token)
    use_receipts: dict[int, list[str]] = field(default_factory=dict)  # seq → receipt ids

    def report(self, seq: int, posted_at: str, kid: str, events: list[tuple[str, str]], *, version: int = 3):
        """A usage report: its receipts (one signature) and its entry."""
        ids = [f"rcpt_{event}" for event, _ in events]
        tokens, root = sign_receipts(
            self.platform,
            kid,
            [payload(rid, event, posted_at) for rid, (event, _) in zip(ids, events, strict=True)],
            version=version,
        )
        self.receipts += list(zip(ids, tokens, strict=True))
        self.use_receipts[seq] = ids
        self.book.post(
            seq,
            posted_at,
            key=f"usage:{BRAND}:{events[0][0]}",
            kind="usage.royalty",
            effective_at=posted_at,
            postings=use_postings(250 * len(events)),
            memo=f"{len(events)} uses under licence {LICENCE}",
            metadata={"licence_id": LICENCE, "uses": len(events), "quantity": len(events), "receipts_root": root},
        )


def build() -> Scenario:
    s = Scenario()
    b = s.book
    b.post(
        1,
        "2026-10-02T09:00:00.000001Z",
        key="licence-sale:12",
        kind="licence.sale",
        effective_at="2026-10-02T09:00:00.000000Z",
        memo="Licence 12 — upfront fee",
        postings=[
            ["platform:stripe:USD", 9680, "USD"],
            ["platform:fees:stripe:USD", 320, "USD"],
            [f"creator:{CREATOR}:payable:USD", -9000, "USD"],
            ["platform:revenue:commission:USD", -1000, "USD"],
        ],
        metadata={"licence_id": LICENCE, "payment_intent": "pi_123"},
    )
    b.post(
        2,
        "2026-10-03T10:00:00.000000Z",
        key="licence-sale:13",
        kind="licence.sale",
        effective_at="2026-10-03T10:00:00.000000Z",
        postings=[["platform:stripe:USD", 500, "USD"], ["creator:8:payable:USD", -500, "USD"]],
        metadata={"licence_id": 13},
    )
    s.report(4, "2026-10-15T12:00:00.000000Z", "rk-old", [("render-1", ""), ("render-2", "")], version=2)
    s.report(5, "2026-10-25T12:00:00.000000Z", "rk-new", [("render-3", "")])
    b.post(
        6,
        "2026-10-26T08:00:00.000000Z",
        key="licence-sale:14",
        kind="licence.sale",
        effective_at="2026-10-26T08:00:00.000000Z",
        postings=[["platform:stripe:USD", 700, "USD"], ["creator:9:payable:USD", -700, "USD"]],
    )
    b.post(
        7,
        "2026-10-31T23:00:00.000000Z",
        key=f"settlement:2026-10:reserve:{CREATOR}:USD",
        kind="reserve.hold",
        effective_at="2026-10-31T23:00:00.000000Z",
        postings=[[f"creator:{CREATOR}:payable:USD", 100, "USD"], [f"creator:{CREATOR}:reserve:USD", -100, "USD"]],
    )
    b.post(
        8,
        "2026-11-01T06:00:00.000000Z",
        key="payout:item:1",
        kind="payout.transfer",
        effective_at="2026-11-01T06:00:00.000000Z",
        postings=[[f"creator:{CREATOR}:payable:USD", 9575, "USD"], ["platform:stripe:USD", -9575, "USD"]],
        metadata={"period": "2026-10", "item_id": 1},
    )
    s.report(9, "2026-11-03T12:00:00.000000Z", "rk-new", [("render-4", "")])
    b.post(
        10,
        "2026-11-04T08:00:00.000000Z",
        key="licence-sale:15",
        kind="licence.sale",
        effective_at="2026-11-04T08:00:00.000000Z",
        postings=[["platform:stripe:USD", 300, "USD"], ["creator:9:payable:USD", -300, "USD"]],
    )
    return s


CHECKPOINTS = {
    "checkpoints/000000000006.jws": (6, "2026-11-01T00:10:00Z"),
    "checkpoints/000000000009.jws": (9, "2026-11-05T00:10:00Z"),
}
STATEMENT_MONTHS = {
    "2026-10": ([1, 4, 5, 7], "checkpoints/000000000006.jws"),
    "2026-11": ([8, 9], "checkpoints/000000000009.jws"),
}
BUCKETS = {"creator": {"payable": -1, "reserve": -1, "recoverable": 1}, "brand": {"receivable": 1}}


def statement(s: Scenario, kind: str, party: int, period: str, opening: dict[str, int]) -> dict[str, Any]:
    seqs, checkpoint = STATEMENT_MONTHS[period]
    size = CHECKPOINTS[checkpoint][0]
    lines, running = [], dict(opening)
    sections = {
        "licence.sale": "sales",
        "usage.royalty": "uses",
        "reserve.hold": "reserve",
        "payout.transfer": "payouts",
    }
    for entry in s.book.entries:
        if entry.seq not in seqs:
            continue
        change = {
            bucket: sign * sum(p[1] for p in entry.content["postings"] if p[0] == f"{kind}:{party}:{bucket}:USD")
            for bucket, sign in BUCKETS[kind].items()
        }
        if not any(any(p[0] == f"{kind}:{party}:{b}:USD" for p in entry.content["postings"]) for b in change):
            continue
        line = {
            "seq": entry.seq,
            "section": sections[entry.content["kind"]],
            "change": change,
            "entry": entry.archived(),
            "proof": s.book.inclusion(entry.seq, size, checkpoint),
        }
        if entry.seq in s.use_receipts:
            line["receipts"] = s.use_receipts[entry.seq]
        lines.append(line)
        running = {b: running[b] + change[b] for b in running}
    return {
        "typ": "cameo-exchange/statement",
        "v": 1,
        "party": {"kind": kind, "id": party},
        "period": period,
        "currency": "USD",
        "opening": opening,
        "lines": lines,
        "closing": running,
    }


def attestation(s: Scenario, text_sha: str = CONTRACT_SHA) -> str:
    payload = {
        "typ": "cameo-exchange/contract-attestation",
        "v": 1,
        "iss": s.platform.issuer,
        "licence_id": LICENCE,
        "contract_sha256": text_sha,
        "attested_at": "2026-10-01T10:00:00.000000Z",
        "kid": "ctk-1",
        "signatures": [
            {
                "party": f"creator:{CREATOR}",
                "role": "licensor",
                "user_id": CREATOR,
                "signed_at": "2026-10-01T09:00:00.000000Z",
                "ip_hash": "ab" * 32,
                "user_agent": "Mozilla/5.0",
                "sha256": text_sha,
            },
            {
                "party": f"brand:{BRAND}",
                "role": "licensee",
                "user_id": 21,
                "signed_at": "2026-10-01T09:30:00.000000Z",
                "sha256": text_sha,
            },
        ],
    }
    return s.platform.jws("ctk-1", "cameo-contract-attestation", canonical_json(payload))


def archive_files(s: Scenario, kind: str = "creator", *, issued_at: str = "2026-11-06T00:00:00Z") -> dict[str, bytes]:
    """Every file of ``kind``'s archive (creator 7 or brand 3), manifest included."""
    party = CREATOR if kind == "creator" else BRAND
    files: dict[str, bytes] = {
        "keys.json": json_file(s.platform.key_set()),
        "README.txt": b"Check this archive with: cameo-verify THIS.zip --keys KEYS.json\n",
    }
    for name, (size, when) in CHECKPOINTS.items():
        files[name] = s.platform.jws(
            "ck-1", "cameo-checkpoint", canonical_json(s.book.checkpoint_payload(size, when, "ck-1"))
        ).encode()
    files["checkpoints/consistency/6-9.json"] = json_file(s.book.consistency(6, 9))
    files[f"contracts/{LICENCE}/contract.txt"] = CONTRACT_TEXT
    files[f"contracts/{LICENCE}/contract.pdf"] = b"%PDF-1.4\n% a rendering of contract.txt\n%%EOF\n"
    files[f"contracts/{LICENCE}/attestation.jws"] = attestation(s).encode()
    files[f"consent/{CAMEO}/1.txt"] = CONSENT_TEXT
    files[f"consent/{CAMEO}/1.json"] = json_file(
        {
            "typ": "cameo-exchange/consent",
            "v": 1,
            "cameo_id": CAMEO,
            "consent_id": 1,
            "signed_by": CREATOR,
            "owners": [{"user_id": CREATOR, "share_bps": 10000}],
            "statement_sha256": hashlib.sha256(CONSENT_TEXT).hexdigest(),
            "recording_sha256": "cd" * 32,
            "recording_content_type": "video/mp4",
            "recording_size": 1048576,
            "signed_at": "2026-09-30T12:00:00.000000Z",
            "ip_hash": "ef" * 32,
            "user_agent": "Mozilla/5.0",
            "withdrawn_at": None,
        }
    )
    files[f"receipts/{LICENCE}.jsonl"] = "".join(
        json_file_line({"receipt_id": rid, "token": token}) for rid, token in s.receipts
    ).encode()
    october = statement(s, kind, party, "2026-10", dict.fromkeys(BUCKETS[kind], 0))
    november = statement(s, kind, party, "2026-11", october["closing"])
    files["statements/2026-10-USD.json"] = json_file(october)
    files["statements/2026-11-USD.json"] = json_file(november)
    files["objections/obj_1.json"] = json_file(
        {
            "typ": "cameo-exchange/objection",
            "v": 1,
            "objection_id": "obj_1",
            "licence_id": LICENCE,
            "receipt_id": "rcpt_render-4",
            "raised_by": f"creator:{CREATOR}",
            "raised_at": "2026-11-04T10:00:00Z",
            "reason": "This render was published outside the licensed channels.",
            "status": "open",
            "resolved_at": None,
        }
    )
    return manifest_files(files, s.platform, kid="ak-1", subject=f"{kind}:{party}", issued_at=issued_at)


def json_file_line(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
