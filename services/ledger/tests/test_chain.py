"""The hash chain's rules, without I/O: canonical JSON, the two hashes, what
data can be recorded, and the first broken link."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from mindlinks_ledger.chain import (
    ZERO_HASH,
    Entry,
    InvalidEntryData,
    canonical_json,
    check_data,
    content_hash,
    entry_hash,
    find_break,
)

DEEP: dict[str, Any] = {"x": "deep"}
for _ in range(17):
    DEEP = {"x": DEEP}


def chain(n: int) -> list[Entry]:
    entries: list[Entry] = []
    prev = ZERO_HASH
    for seq in range(1, n + 1):
        entry = Entry.create(
            seq=seq,
            kind="note",
            subject="s",
            data={"i": seq, "text": "naïve ✓"},
            recorded_at=f"2030-01-01T00:00:{seq:02d}.000000Z",
            idempotency_key=f"k{seq}",
            prev_hash=prev,
        )
        entries.append(entry)
        prev = entry.entry_hash
    return entries


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_utf8() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == (
        '{"a":{"c":"é","d":[1,2]},"b":1}'.encode()
    )
    assert canonical_json({"Z": 1, "a": 2, "é": 3}) == '{"Z":1,"a":2,"é":3}'.encode()


def test_the_content_hash_covers_seq_kind_subject_data_and_time() -> None:
    expected = hashlib.sha256(
        b'{"data":{"x":1},"kind":"note","recordedAt":"t","seq":7,"subject":"s"}'
    ).hexdigest()
    assert content_hash(7, "note", "s", {"x": 1}, "t") == expected
    for other in (
        content_hash(8, "note", "s", {"x": 1}, "t"),
        content_hash(7, "notes", "s", {"x": 1}, "t"),
        content_hash(7, "note", "s2", {"x": 1}, "t"),
        content_hash(7, "note", "s", {"x": 2}, "t"),
        content_hash(7, "note", "s", {"x": 1}, "t2"),
    ):
        assert other != expected


def test_the_entry_hash_links_raw_digests() -> None:
    prev, content = "11" * 32, "22" * 32
    assert entry_hash(prev, content) == hashlib.sha256(bytes.fromhex(prev + content)).hexdigest()
    first = chain(1)[0]
    assert first.prev_hash == ZERO_HASH
    assert first.entry_hash == entry_hash(ZERO_HASH, first.content_hash)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "JSON object"),
        ({"x": 1.5}, "fraction"),
        ({"x": 1.0}, "fraction"),
        ({"x": float("nan")}, "not a number"),
        ({"x": 2**53}, r"2\^53"),
        ({"x": -(2**53)}, r"2\^53"),
        ({"": 1}, "non-empty"),
        ({"x": {"y": b"bytes"}}, "not JSON"),
        ({"x": "\ud800"}, "canonical"),
        ({"x": "a" * 2000}, "at most"),
        (DEEP, "deeper"),
    ],
)
def test_data_without_one_canonical_form_is_refused(data: Any, reason: str) -> None:
    with pytest.raises(InvalidEntryData, match=reason):
        check_data(data, max_bytes=1024)


def test_json_data_of_every_kind_is_accepted() -> None:
    check_data(
        {"s": "✓", "n": -(2**53 - 1), "t": True, "f": False, "z": None, "l": [1, "a", {}], "o": {}},
        max_bytes=1024,
    )


def test_an_intact_chain_has_no_break() -> None:
    entries = chain(6)
    assert find_break(entries) is None
    assert find_break(entries[2:], start_seq=3, start_prev=entries[1].entry_hash) is None
    assert find_break([]) is None


def test_each_kind_of_tampering_is_named_at_its_entry() -> None:
    entries = chain(6)
    changed_data = [*entries[:2], replace(entries[2], data={"i": 99}), *entries[3:]]
    found = find_break(changed_data)
    assert found is not None
    assert (found.seq, found.check) == (3, "content-hash")

    forged = Entry.create(
        seq=3,
        kind="note",
        subject="s",
        data={"i": 99},
        recorded_at=entries[2].recorded_at,
        idempotency_key="k3",
        prev_hash=entries[1].entry_hash,
    )
    found = find_break([*entries[:2], forged, *entries[3:]])
    assert found is not None
    assert (found.seq, found.check) == (4, "prev-hash")

    found = find_break([*entries[:2], replace(entries[2], entry_hash="f" * 64), *entries[3:]])
    assert found is not None
    assert (found.seq, found.check) == (3, "entry-hash")

    found = find_break([*entries[:2], *entries[3:]])
    assert found is not None
    assert (found.seq, found.check) == (3, "missing")

    found = find_break([entries[1], entries[0]])
    assert found is not None
    assert (found.seq, found.check) == (1, "missing")

    found = find_break([replace(entries[0], prev_hash="not hex")])
    assert found is not None
    assert found.check == "prev-hash"


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 0},
        {"seq": True},
        {"seq": "1"},
        {"kind": 5},
        {"data": []},
        {"contentHash": "ABC"},
        {"prevHash": None},
        {"entryHash": "g" * 64},
    ],
)
def test_an_entry_that_is_not_one_is_refused(change: dict[str, Any]) -> None:
    raw = {**chain(1)[0].as_json(), **change}
    with pytest.raises(ValueError, match=r"\w"):
        Entry.from_json(raw)


def test_entries_round_trip_through_json() -> None:
    entry = chain(2)[1]
    assert Entry.from_json(entry.as_json()) == entry
    with pytest.raises(ValueError, match="object"):
        Entry.from_json([])  # type: ignore[arg-type]
