"""Two archives of the same licences — a brand's and a creator's — must agree
(docs/formats/archive.md, "Comparing two archives").

Each archive is verified on its own first; then, for every licence both hold: the
same contract, the same receipts (a receipt issued after the older archive was made
cannot be in it and is not counted against it), the same total per currency, and
every entry both carry is the same entry (same chain link); two checkpoints of the
same tree size must have the same root.  Every difference is named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .archive import ArchiveReport
from .encoding import parse_time
from .receipts import Receipt


def differences(a: ArchiveReport, b: ArchiveReport, names: tuple[str, str] = ("A", "B")) -> list[str]:
    found: list[str] = []
    if a.issuer and b.issuer and a.issuer != b.issuer:
        return [f"{names[0]} is {a.issuer}'s, {names[1]} is {b.issuer}'s"]
    shared = sorted(set(a.contracts) & set(b.contracts))
    if not shared:
        return ["the archives share no licence"]
    cutoff = min(parse_time(a.issued_at, "issued_at"), parse_time(b.issued_at, "issued_at"))
    for licence_id in shared:
        if a.contracts[licence_id].sha256 != b.contracts[licence_id].sha256:
            found.append(
                f"licence {licence_id}: the contracts differ ({a.contracts[licence_id].sha256} in "
                f"{names[0]}, {b.contracts[licence_id].sha256} in {names[1]})"
            )
        mine, theirs = _receipts(a, licence_id, cutoff), _receipts(b, licence_id, cutoff)
        for receipt_id in sorted(set(mine) | set(theirs)):
            if receipt_id not in theirs:
                found.append(f"licence {licence_id}: receipt {receipt_id} is in {names[0]} but not in {names[1]}")
            elif receipt_id not in mine:
                found.append(f"licence {licence_id}: receipt {receipt_id} is in {names[1]} but not in {names[0]}")
            elif mine[receipt_id].payload != theirs[receipt_id].payload:
                fields = sorted(
                    k
                    for k in set(mine[receipt_id].payload) | set(theirs[receipt_id].payload)
                    if mine[receipt_id].payload.get(k) != theirs[receipt_id].payload.get(k)
                )
                found.append(f"licence {licence_id}: receipt {receipt_id} differs in {', '.join(fields)}")
        totals = _totals(mine.values()), _totals(theirs.values())
        if totals[0] != totals[1]:
            found.append(
                f"licence {licence_id}: uses total {_show(totals[0])} in {names[0]}, {_show(totals[1])} in {names[1]}"
            )
    for seq in sorted(set(a.entries) & set(b.entries)):
        if a.entries[seq].hash != b.entries[seq].hash:
            found.append(f"entry {seq} differs between the archives")
    roots_b = {c.tree_size: c.root for c in b.checkpoints}
    for checkpoint in a.checkpoints:
        if roots_b.get(checkpoint.tree_size, checkpoint.root) != checkpoint.root:
            found.append(f"the checkpoints of {checkpoint.tree_size} entries have different roots")
    return found


def _receipts(report: ArchiveReport, licence_id: int, cutoff) -> dict[str, Receipt]:
    return {
        rid: r
        for rid, r in report.receipts.items()
        if r.payload.get("licence_id") == licence_id and parse_time(r.payload.get("issued_at"), "issued_at") <= cutoff
    }


def _totals(receipts: Iterable[Receipt]) -> Counter:
    totals: Counter = Counter()
    for receipt in receipts:
        totals[receipt.payload.get("currency")] += receipt.payload.get("price_minor") or 0
    return totals


def _show(totals: Counter) -> str:
    return ", ".join(f"{amount} {currency} (minor units)" for currency, amount in sorted(totals.items())) or "nothing"
