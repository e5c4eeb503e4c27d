"""The journal's hash chain; pure functions (the CLI uses them without a database).

An entry is ``{seq, kind, subject, data, recordedAt, idempotencyKey,
contentHash, prevHash, entryHash}``:

- ``contentHash = SHA-256(canonical JSON of {seq, kind, subject, data, recordedAt})``;
  canonical JSON = keys sorted (by code point), no whitespace, UTF-8, no
  floats (so every implementation serializes a number the same way);
- ``prevHash`` = the previous entry's ``entryHash`` (64 zeros for seq 1);
- ``entryHash = SHA-256(prevHash || contentHash)`` over the raw 32-byte digests.

Hashes travel as lowercase hex.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ZERO_HASH = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1
"""Numbers in entry data must survive JavaScript (the dashboards) and DynamoDB."""
MAX_DEPTH = 16
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class InvalidEntryData(ValueError):
    """Entry data that has no single canonical form (or is too large or deep)."""


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_hash(value: object) -> bool:
    return isinstance(value, str) and bool(_HEX64.match(value))


def check_data(data: Any, max_bytes: int) -> None:
    """Entry data is a JSON object of strings, integers (|n| <= 2^53 - 1),
    booleans, nulls, arrays and objects with non-empty keys; no floats."""
    if not isinstance(data, dict):
        raise InvalidEntryData("data must be a JSON object")
    _check_value(data, "data", 0)
    try:
        size = len(canonical_json(data))
    except (UnicodeEncodeError, ValueError) as exc:
        raise InvalidEntryData(f"data has no canonical JSON form: {exc}") from None
    if size > max_bytes:
        raise InvalidEntryData(f"data is {size} bytes in canonical JSON; at most {max_bytes}")


def _check_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidEntryData(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidEntryData(f"{where}: integers are limited to +/-(2^53 - 1)")
        return
    if isinstance(value, float):
        detail = "not a number" if not math.isfinite(value) else "a fraction"
        raise InvalidEntryData(
            f"{where}: {detail}; numbers must be integers (money in minor units, "
            "anything else as a string)"
        )
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise InvalidEntryData(f"{where}: object keys must be non-empty strings")
            _check_value(item, f"{where}.{key}", depth + 1)
        return
    raise InvalidEntryData(f"{where}: {type(value).__name__} is not JSON")


def content_hash(
    seq: int, kind: str, subject: str, data: Mapping[str, Any], recorded_at: str
) -> str:
    return sha256_hex(
        canonical_json(
            {"seq": seq, "kind": kind, "subject": subject, "data": data, "recordedAt": recorded_at}
        )
    )


def entry_hash(prev_hash: str, content: str) -> str:
    return sha256_hex(bytes.fromhex(prev_hash) + bytes.fromhex(content))


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    subject: str
    data: dict[str, Any]
    recorded_at: str
    idempotency_key: str
    content_hash: str
    prev_hash: str
    entry_hash: str

    @classmethod
    def create(
        cls,
        *,
        seq: int,
        kind: str,
        subject: str,
        data: dict[str, Any],
        recorded_at: str,
        idempotency_key: str,
        prev_hash: str,
    ) -> Entry:
        content = content_hash(seq, kind, subject, data, recorded_at)
        return cls(
            seq=seq,
            kind=kind,
            subject=subject,
            data=data,
            recorded_at=recorded_at,
            idempotency_key=idempotency_key,
            content_hash=content,
            prev_hash=prev_hash,
            entry_hash=entry_hash(prev_hash, content),
        )

    def as_json(self) -> dict[str, Any]:
        """The entry as it is stored and exported (camelCase)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "subject": self.subject,
            "data": self.data,
            "recordedAt": self.recorded_at,
            "idempotencyKey": self.idempotency_key,
            "contentHash": self.content_hash,
            "prevHash": self.prev_hash,
            "entryHash": self.entry_hash,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Entry:
        """Read a stored or exported entry; ``ValueError`` when it is not one."""
        if not isinstance(raw, Mapping):
            raise ValueError("an entry is a JSON object")
        seq = raw.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("seq must be a positive integer")
        texts = {name: raw.get(name) for name in ("kind", "subject", "recordedAt")}
        for name, value in texts.items():
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        hashes = {name: raw.get(name) for name in ("contentHash", "prevHash", "entryHash")}
        for name, value in hashes.items():
            if not is_hash(value):
                raise ValueError(f"{name} must be 64 lowercase hex digits")
        data = raw.get("data")
        if not isinstance(data, dict):
            raise ValueError("data must be a JSON object")
        key = raw.get("idempotencyKey", "")
        return cls(
            seq=seq,
            kind=str(texts["kind"]),
            subject=str(texts["subject"]),
            data=data,
            recorded_at=str(texts["recordedAt"]),
            idempotency_key=key if isinstance(key, str) else "",
            content_hash=str(hashes["contentHash"]),
            prev_hash=str(hashes["prevHash"]),
            entry_hash=str(hashes["entryHash"]),
        )


@dataclass(frozen=True)
class Break:
    """The first place the journal does not verify: which entry, which check."""

    seq: int
    check: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "check": self.check, "detail": self.detail}


def entry_faults(entry: Entry) -> list[Break]:
    """What is wrong with one entry on its own (its two hashes)."""
    faults: list[Break] = []
    try:
        recomputed = content_hash(
            entry.seq, entry.kind, entry.subject, entry.data, entry.recorded_at
        )
    except (TypeError, ValueError) as exc:
        return [Break(entry.seq, "content-hash", f"the content cannot be hashed: {exc}")]
    if recomputed != entry.content_hash:
        faults.append(
            Break(
                entry.seq,
                "content-hash",
                f"the content hashes to {recomputed}, the entry says {entry.content_hash}",
            )
        )
    if not (is_hash(entry.prev_hash) and is_hash(entry.content_hash)):
        return [*faults, Break(entry.seq, "entry-hash", "prevHash or contentHash is not a hash")]
    linked = entry_hash(entry.prev_hash, entry.content_hash)
    if linked != entry.entry_hash:
        faults.append(
            Break(
                entry.seq,
                "entry-hash",
                f"prevHash || contentHash hashes to {linked}, the entry says {entry.entry_hash}",
            )
        )
    return faults


def find_break(
    entries: Iterable[Entry], *, start_seq: int = 1, start_prev: str = ZERO_HASH
) -> Break | None:
    """Walk a run of entries in order from ``start_seq`` (whose ``prevHash`` must
    be ``start_prev``) and return the first broken link, or ``None``."""
    expected_seq, prev = start_seq, start_prev
    for entry in entries:
        if entry.seq != expected_seq:
            check = "missing" if entry.seq > expected_seq else "order"
            return Break(expected_seq, check, f"expected entry {expected_seq}, found {entry.seq}")
        if entry.prev_hash != prev:
            return Break(
                entry.seq,
                "prev-hash",
                f"prevHash is {entry.prev_hash}, the previous entry's hash is {prev}",
            )
        faults = entry_faults(entry)
        if faults:
            return faults[0]
        prev = entry.entry_hash
        expected_seq += 1
    return None
