"""A receipt embedded in a media file's C2PA manifest (docs/formats/receipts.md, "In media").

Three things must hold: the C2PA manifest is intact (its claim signature and hard
binding, as c2pa-python's validator reports; an untrusted signing certificate alone
is a reader's trust policy, not a failure), the receipt in the
``org.cameo-exchange.likeness-licence`` assertion verifies, and the media *is* the
content the receipt licensed: the sha256 of the file with its C2PA manifest store
taken out equals the receipt's ``content.sha256``.  For JPEG the manifest store is
the APP11 segments carrying JUMBF (common identifier ``JP``); removing them gives
back the bytes the brand hashed before signing.

c2pa-python is optional (``pip install cameo-verify[c2pa]``) and imported only here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from .encoding import Invalid, sha256_hex
from .keys import KeySet
from .receipts import Receipt, verify_receipt

LICENCE_LABEL = "org.cameo-exchange.likeness-licence"
UNTRUSTED = "signingCredential.untrusted"


class C2paMissing(Exception):
    """c2pa-python is not installed."""


@dataclass(frozen=True)
class MediaCheck:
    c2pa_state: str
    receipt: Receipt
    content_sha256: str


def content_sha256(data: bytes) -> str:
    """sha256 of a JPEG without its C2PA manifest store (APP11 JUMBF segments)."""
    if data[:2] != b"\xff\xd8":
        raise Invalid("only JPEG media are supported for the content hash")
    kept, at = bytearray(data[:2]), 2
    while at + 4 <= len(data):
        marker = data[at + 1]
        if data[at] != 0xFF:
            raise Invalid("the JPEG's segment structure is broken")
        if marker == 0xDA:  # start of scan: the image data follows, nothing more to take out
            break
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        segment = data[at : at + 2 + length]
        if not (marker == 0xEB and segment[4:6] == b"JP"):
            kept += segment
        at += 2 + length
    kept += data[at:]
    return sha256_hex(bytes(kept))


def verify_media(path: Path, keys: KeySet) -> MediaCheck:
    try:
        import c2pa
    except ImportError:
        raise C2paMissing("checking media needs the c2pa extra: pip install 'cameo-verify[c2pa]'") from None
    try:
        reader = c2pa.Reader(str(path))
    except c2pa.C2paError as problem:
        raise Invalid(f"no readable C2PA manifest ({problem})") from None
    with reader:
        manifest = reader.get_active_manifest() or {}
        state = reader.get_validation_state()
        results = reader.get_validation_results() or {}
    failures = [f.get("code", "") for f in (results.get("activeManifest") or {}).get("failure") or []]
    broken = [code for code in failures if code != UNTRUSTED]
    if broken:
        raise Invalid(f"the C2PA manifest does not validate: {', '.join(broken)}")
    token = next(
        (
            (a.get("data") or {}).get("receipt")
            for a in manifest.get("assertions", [])
            if a.get("label") == LICENCE_LABEL
        ),
        None,
    )
    if not isinstance(token, str):
        raise Invalid(f"the C2PA manifest has no {LICENCE_LABEL} assertion with a receipt")
    receipt = verify_receipt(token, keys)
    licensed = (receipt.payload.get("content") or {}).get("sha256")
    actual = content_sha256(Path(path).read_bytes())
    if licensed != actual:
        raise Invalid(f"the media's content hash is {actual}, but the receipt licensed {licensed}")
    return MediaCheck(str(state), receipt, actual)
