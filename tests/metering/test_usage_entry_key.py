"""The idempotency key of a usage entry: readable for one use, a digest for several,
independent of order, within the ledger's 200 characters, never a single use's key."""

from __future__ import annotations

import re

from app.metering.schemas import EVENT_ID_PATTERN
from app.metering.usage import entry_key


def test_one_use_keeps_its_event_id():
    assert entry_key(7, ["evt-1"]) == "usage:7:evt-1"


def test_several_uses_are_keyed_by_all_their_event_ids_in_any_order():
    key = entry_key(7, ["b", "a", "c"])
    assert key == entry_key(7, ["c", "b", "a"]) and key.startswith("usage:7:a+2#")
    assert key != entry_key(7, ["a", "b", "d"]) and key != entry_key(8, ["a", "b", "c"])
    assert key != entry_key(7, ["a", "b"])


def test_keys_fit_the_ledger_and_never_meet_a_single_uses_key():
    longest = "x" * 200
    assert re.fullmatch(EVENT_ID_PATTERN, longest)
    for ids in ([longest], [longest, "y" * 200], [f"{i:0200d}" for i in range(1000)]):
        key = entry_key(2**31 - 1, ids)
        assert len(key) <= 200 and "#" in key
    assert not re.fullmatch(EVENT_ID_PATTERN, "a+2#0")  # so no event id can spell a batch key
