"""Contracts and the platform's attestation of their signatures (docs/formats/archive.md, "Contracts").

The parties signed a contract's exact text by its sha256 (in the web app: a click
recorded with time, IP and user agent, not a cryptographic signature of their own).
The platform attests what it recorded: a JWS (``typ: cameo-contract-attestation``, a
``contracts`` key) over ``{typ, v, iss, licence_id, contract_sha256, signatures,
attested_at, kid}``.  The verifier recomputes the text's hash and checks that every
recorded signature is of that hash, before the attestation, by a licensor (a
creator) or the licensee (the brand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .encoding import Invalid, field, hex64, parse_time, sha256_hex
from .jws import open_signed
from .keys import KeySet

JWS_TYPE = "cameo-contract-attestation"
ATTESTATION_TYPE = "cameo-exchange/contract-attestation"
PARTY = re.compile(r"(creator|brand):\d+")
ROLE_OF = {"creator": "licensor", "brand": "licensee"}


@dataclass(frozen=True)
class Contract:
    licence_id: int
    sha256: str
    parties: tuple[str, ...]


def verify_contract(licence_id: int, text: bytes, attestation: bytes, keys: KeySet) -> Contract:
    payload = open_signed(attestation, keys, typ=JWS_TYPE, use="contracts", time_field="attested_at")
    what = "the attestation"
    if payload.get("typ") != ATTESTATION_TYPE or payload.get("v") != 1:
        raise Invalid(f"{what} is not a {ATTESTATION_TYPE} of version 1")
    if keys.issuer is not None and payload.get("iss") != keys.issuer:
        raise Invalid(f"{what} is {payload.get('iss')}'s, but the key set is {keys.issuer}'s")
    if payload.get("licence_id") != licence_id:
        raise Invalid(f"{what} is of licence {payload.get('licence_id')}, not {licence_id}")
    claimed = hex64(payload.get("contract_sha256"), f"{what}: contract_sha256")
    actual = sha256_hex(text)
    if claimed != actual:
        raise Invalid(f"contract.txt has sha256 {actual}, but the attested contract is {claimed}")
    attested_at = parse_time(payload["attested_at"], "attested_at")
    signatures = field(payload, "signatures", list, what)
    roles = set()
    for number, signature in enumerate(signatures, start=1):
        where = f"signature {number}"
        if not isinstance(signature, dict):
            raise Invalid(f"{where} is not an object")
        party, role = field(signature, "party", str, where), field(signature, "role", str, where)
        if not PARTY.fullmatch(party) or ROLE_OF[party.split(":")[0]] != role:
            raise Invalid(f"{where}: party {party!r} cannot sign as {role!r}")
        field(signature, "user_id", int, where)
        if parse_time(signature.get("signed_at"), f"{where}: signed_at") > attested_at:
            raise Invalid(f"{where} is dated after the attestation")
        if hex64(signature.get("sha256"), f"{where}: sha256") != actual:
            raise Invalid(f"{where} ({party}) signed a different text (sha256 {signature['sha256']})")
        if signature.get("ip_hash") is not None:
            hex64(signature["ip_hash"], f"{where}: ip_hash")
        field(signature, "user_agent", str, where, optional=True)
        roles.add(role)
    if roles != {"licensor", "licensee"}:
        raise Invalid(f"{what} needs the signatures of a licensor and the licensee")
    return Contract(licence_id, actual, tuple(s["party"] for s in signatures))
