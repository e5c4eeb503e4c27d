"""The append-only journal: appends serialized by one DynamoDB transaction per
entry, reads, the Merkle tree over entry hashes, proofs and full verification.

Appends race on the tip: each builds entry ``tip + 1`` and commits entry +
tip + idempotency key in one transaction conditioned on the tip being
unchanged and the key being new; the loser re-reads the key and the tip and
retries (bounded, with jitter). A process remembers the tip its last append
wrote and tries that first, so an uncontended append is one call. Within one
process appends also queue on a lock, so they rarely race at all.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import Item
from mindlinks_ledger import merkle
from mindlinks_ledger.chain import (
    ZERO_HASH,
    Break,
    Entry,
    InvalidEntryData,
    check_data,
    find_break,
    is_hash,
)
from mindlinks_ledger.domain import (
    Appended,
    Digest,
    EntryNotFound,
    InvalidData,
    JournalBroken,
    JournalBusy,
    Proof,
    Tip,
    TreeSizeOutOfRange,
    Verification,
    fingerprint,
)
from mindlinks_ledger.store import CHAIN_AT_ONCE, Contended, JournalStore, entry_of

Request = tuple[str, str, dict[str, Any], str]
"""An append: kind, subject, data, idempotency key."""
SCAN_FROM = 1000
"""Entries a process has not read yet beyond which it reads the journal's hashes
with one parallel scan instead of batch gets (its first proof, in practice)."""
SEGMENT_ENTRIES = 2000
"""Entries per parallel scan segment of a full verification (at most four)."""


def scan_segments(entries: int) -> int:
    """Parallel scan segments for a journal of ``entries``: one scan call reads
    about a thousand, so a small journal takes one call, a large one up to four
    segments at once."""
    return min(4, 1 + entries // SEGMENT_ENTRIES)


def leaf_hashes(items: Sequence[Item], size: int, after: int = 0) -> list[bytes]:
    """Leaf hashes of entries ``after+1..size`` from ``{seq, entryHash}`` items
    in seq order (items at or before ``after`` are skipped)."""
    leaves: list[bytes] = []
    for item in items:
        seq = int(item["seq"])
        if seq <= after:
            continue
        if seq > size:
            break
        if seq != after + len(leaves) + 1:
            missing = after + len(leaves) + 1
            raise JournalBroken(f"entry {missing} is missing", seq=missing)
        if not is_hash(item.get("entryHash")):
            raise JournalBroken(f"entry {seq} has no valid entryHash", seq=seq)
        leaves.append(merkle.leaf_hash(bytes.fromhex(item["entryHash"])))
    if after + len(leaves) != size:
        missing = after + len(leaves) + 1
        raise JournalBroken(f"entry {missing} is missing", seq=missing)
    return leaves


def first_break(items: Sequence[Item], tip: Tip) -> Break | None:
    """The first broken link of the journal up to ``tip`` (items sorted by seq)."""
    entries: list[Entry] = []
    for item in items:
        seq = int(item["seq"])
        if seq > tip.seq:
            break  # appended after we read the tip
        try:
            entries.append(entry_of(item))
        except ValueError as exc:
            return find_break(entries) or Break(seq, "malformed", str(exc))
    found = find_break(entries)
    if found is not None:
        return found
    if len(entries) < tip.seq:
        return Break(len(entries) + 1, "missing", f"the tip is entry {tip.seq}")
    if entries and entries[-1].entry_hash != tip.hash:
        return Break(tip.seq, "tip", f"the tip records hash {tip.hash}")
    return None


def anchor_break(items: Sequence[Item], tip: Tip, anchor: Digest) -> Break | None:
    """Whether the journal still produces an anchored digest's root."""
    if anchor.tree_size > tip.seq:
        return Break(
            tip.seq + 1,
            "anchored-digest",
            f"an anchored digest covers {anchor.tree_size} entries; the journal has {tip.seq}",
        )
    if anchor.tree_size == 0:
        return None
    leaves = leaf_hashes(items, anchor.tree_size)
    root = merkle.root(leaves).hex()
    tip_hash = next(str(i["entryHash"]) for i in items if int(i["seq"]) == anchor.tree_size)
    if root != anchor.root_hash or tip_hash != anchor.tip_hash:
        return Break(
            anchor.tree_size,
            "anchored-digest",
            f"entries 1..{anchor.tree_size} have root {root}; the digest anchored at "
            f"{anchor.issued_at} says {anchor.root_hash}",
        )
    return None


class Journal:
    def __init__(
        self,
        store: JournalStore,
        *,
        attempts: int = 25,
        max_data_bytes: int = 32 * 1024,
        digest_cache_seconds: float = 10.0,
        clock: Callable[[], str] = now_iso,
    ) -> None:
        self.store = store
        self.attempts = attempts
        self.max_data_bytes = max_data_bytes
        self.clock = clock
        self.digest_cache_seconds = digest_cache_seconds
        self._lock = asyncio.Lock()
        self._tip: Tip | None = None
        """The tip as this process's last append left it (another process's
        append makes it stale: the next append's condition finds out)."""
        # Leaf hashes of entries 1..n as this process first read them, and the
        # complete subtrees over them: the journal only grows, so proofs and
        # digests read only entries appended since, never the whole journal
        # again (a rewrite of an old entry shows as a failed proof of it).
        self._known: list[bytes] = []
        self._memo: merkle.Memo = {}
        self._reading = asyncio.Lock()
        self._published: tuple[float, Digest] | None = None
        self._publishing = asyncio.Lock()

    async def append(
        self, kind: str, subject: str, data: dict[str, Any], idempotency_key: str
    ) -> Appended:
        """Append an entry, or return the one this key appended before."""
        try:
            check_data(data, self.max_data_bytes)
        except InvalidEntryData as exc:
            raise InvalidData(str(exc)) from None
        request = fingerprint(kind, subject, data)
        async with self._lock:
            # The first attempt trusts this process's last tip and a new key:
            # the transaction's conditions catch a stale tip or a used key, and
            # only then do we read both (two reads saved per append).
            tip, cached = self._tip, self._tip is not None
            for attempt in range(self.attempts):
                if not cached:
                    known = await self.store.key(idempotency_key)
                    if known is not None:
                        entry = await self._keyed(known.seq)
                        return Appended(entry, False, known.fingerprint == request)
                    tip = await self.store.tip()
                assert tip is not None
                now = self.clock()
                entry = Entry.create(
                    seq=tip.seq + 1,
                    kind=kind,
                    subject=subject,
                    data=data,
                    recorded_at=max(now, tip.recorded_at),  # never before its predecessor
                    idempotency_key=idempotency_key,
                    prev_hash=tip.hash if tip.seq else ZERO_HASH,
                )
                try:
                    await self.store.append(entry, tip.seq, request, now)
                except Contended:
                    self._tip = None
                    if not cached:  # a real race, not just our stale tip or a used key
                        jitter = random.uniform(0, min(0.25, 0.004 * 2**attempt))  # noqa: S311
                        await asyncio.sleep(jitter)
                    cached = False
                    continue
                self._tip = Tip(entry.seq, entry.entry_hash, entry.recorded_at)
                return Appended(entry, True, True)
        raise JournalBusy(f"the append lost the race for the tip {self.attempts} times")

    async def append_together(
        self, first: Request, then: Callable[[int], list[Request]]
    ) -> list[Entry] | None:
        """``first`` and the entries ``then(first's seq)`` names after it, as
        consecutive entries in one transaction (one call for all). None when
        that cannot be: a key already used, the tip moved meanwhile, too many
        entries — the caller then appends them one by one (``append``)."""
        async with self._lock:
            tip = self._tip or await self.store.tip()
            requests = [first, *then(tip.seq + 1)]
            if len(requests) > CHAIN_AT_ONCE:
                return None
            now = self.clock()
            entries: list[Entry] = []
            before = tip
            for kind, subject, data, key in requests:
                try:
                    check_data(data, self.max_data_bytes)
                except InvalidEntryData as exc:
                    raise InvalidData(str(exc)) from None
                entry = Entry.create(
                    seq=before.seq + 1,
                    kind=kind,
                    subject=subject,
                    data=data,
                    recorded_at=max(now, before.recorded_at),
                    idempotency_key=key,
                    prev_hash=before.hash if before.seq else ZERO_HASH,
                )
                entries.append(entry)
                before = Tip(entry.seq, entry.entry_hash, entry.recorded_at)
            prints = [fingerprint(kind, subject, data) for kind, subject, data, _ in requests]
            try:
                await self.store.append_chain(entries, tip.seq, prints, now)
            except Contended:
                self._tip = None
                return None
            self._tip = before
            return entries

    async def appended(self, idempotency_key: str) -> Entry | None:
        """The entry an idempotency key appended, if it did."""
        known = await self.store.key(idempotency_key)
        return await self._keyed(known.seq) if known is not None else None

    async def _keyed(self, seq: int) -> Entry:
        try:
            return await self.entry(seq)
        except EntryNotFound:
            raise JournalBroken(
                f"an idempotency key points at entry {seq}, which is missing"
            ) from None

    async def entry(self, seq: int) -> Entry:
        item = await self.store.item(seq)
        if item is None:
            raise EntryNotFound()
        try:
            return entry_of(item)
        except ValueError as exc:
            raise JournalBroken(f"entry {seq} is malformed: {exc}", seq=seq) from None

    async def entries(self, seqs: list[int]) -> dict[int, Entry]:
        """The entries of ``seqs`` that exist, read together."""
        found = await self.store.items(seqs)
        try:
            return {seq: entry_of(item) for seq, item in found.items()}
        except ValueError as exc:
            raise JournalBroken(f"an entry of {seqs} is malformed: {exc}") from None

    async def subject_page(
        self, subject: str, limit: int, start: Item | None
    ) -> tuple[list[Entry], Item | None]:
        items, last = await self.store.subject_page(subject, limit, start)
        try:
            return [entry_of(i) for i in items], last
        except ValueError as exc:
            raise JournalBroken(f"an entry of {subject} is malformed: {exc}") from None

    async def subject_entries(self, subject: str) -> list[Entry]:
        """Every entry of a subject (a contract has a handful)."""
        entries: list[Entry] = []
        start: Item | None = None
        while True:
            page, start = await self.subject_page(subject, 100, start)
            entries.extend(page)
            if start is None:
                return entries

    async def tip(self) -> Tip:
        return await self.store.tip()

    async def range(self, first: int, last: int) -> list[Entry]:
        found = await self.store.range(first, last)
        entries: list[Entry] = []
        for seq in range(first, last + 1):
            if seq not in found:
                raise JournalBroken(f"entry {seq} is missing", seq=seq)
            try:
                entries.append(entry_of(found[seq]))
            except ValueError as exc:
                raise JournalBroken(f"entry {seq} is malformed: {exc}", seq=seq) from None
        return entries

    async def _leaves(self, size: int) -> list[bytes]:
        """Leaf hashes of entries ``1..size`` (``size`` at most the tip): the
        ones this process has not read yet are read now (one parallel scan for
        a large gap, batch gets for a few new entries)."""
        if size > len(self._known):
            async with self._reading:
                known = len(self._known)
                if size > known:
                    if size - known > SCAN_FROM:
                        items = await self.store.entry_hashes()
                    else:
                        items = await self.store.entry_hashes_between(known + 1, size)
                    new = await asyncio.to_thread(leaf_hashes, items, size, known)
                    self._known.extend(new)
        return self._known[:size]

    async def digest(self) -> Digest:
        """The journal's digest now: the Merkle root over entries 1..tip."""
        tip = await self.store.tip()
        leaves = await self._leaves(tip.seq)
        if tip.seq and (
            not is_hash(tip.hash) or leaves[-1] != merkle.leaf_hash(bytes.fromhex(tip.hash))
        ):
            raise JournalBroken(f"entry {tip.seq} is not the recorded tip", seq=tip.seq)
        root = await asyncio.to_thread(merkle.root, leaves, self._memo)
        return Digest(tip.seq, root.hex(), tip.seq, tip.hash, self.clock())

    async def published_digest(self) -> Digest:
        """``digest()`` computed at most once per ``digest_cache_seconds`` and
        shared by every caller (any signed-in user may ask)."""
        cached = self._published
        if cached is not None and time.monotonic() - cached[0] <= self.digest_cache_seconds:
            return cached[1]
        async with self._publishing:
            cached = self._published
            if cached is not None and time.monotonic() - cached[0] <= self.digest_cache_seconds:
                return cached[1]
            started = time.monotonic()
            digest = await self.digest()
            self._published = (started, digest)
            return digest

    async def proof(self, seq: int, tree_size: int | None = None) -> Proof:
        tip = await self.store.tip()
        if not 1 <= seq <= tip.seq:
            raise EntryNotFound()
        size = tip.seq if tree_size is None else tree_size
        if not seq <= size <= tip.seq:
            raise TreeSizeOutOfRange(
                f"entry {seq} needs a tree size between {seq} and {tip.seq}",
                treeSizeRange=[seq, tip.seq],
            )
        entry = await self.entry(seq)
        leaves = await self._leaves(size)

        def compute() -> tuple[list[bytes], bytes]:
            return (
                merkle.inclusion_proof(leaves, seq - 1, self._memo),
                merkle.root(leaves, self._memo),
            )

        path, root = await asyncio.to_thread(compute)
        return Proof(entry, seq - 1, size, [h.hex() for h in path], root.hex())

    async def consistency(self, first: int, second: int) -> tuple[list[str], str, str]:
        """A consistency proof between two tree sizes, with both roots
        (O(log n) hashes each, from the remembered complete subtrees)."""
        tip = await self.store.tip()
        if not 0 <= first <= second <= tip.seq:
            raise TreeSizeOutOfRange(f"need 0 <= first <= second <= {tip.seq}")
        leaves = await self._leaves(second)

        def compute() -> tuple[list[bytes], bytes, bytes]:
            return (
                merkle.consistency_proof(leaves, first, self._memo),
                merkle.root(leaves[:first], self._memo),
                merkle.root(leaves, self._memo),
            )

        path, first_root, second_root = await asyncio.to_thread(compute)
        return [h.hex() for h in path], first_root.hex(), second_root.hex()

    async def verify(self, anchor: Digest | None = None) -> Break | None:
        """The first broken link of the journal, or None (see ``verification``)."""
        return (await self.verification(anchor)).broken

    async def verification(
        self, anchor: Digest | None = None, tip: Tip | None = None
    ) -> Verification:
        """Re-hash every entry and link up to the tip (``tip``, when the caller
        has just read it); then check the journal still produces the anchored digest."""
        tip = tip or await self.store.tip()
        items = await self.store.scan(segments=scan_segments(tip.seq))

        issued_at = self.clock()

        def check() -> tuple[Break | None, Digest | None]:
            broken = first_break(items, tip)
            if broken is None and anchor is not None:
                broken = anchor_break(items, tip, anchor)
            if broken is not None:
                return broken, None
            root = merkle.root(leaf_hashes(items, tip.seq))
            return None, Digest(tip.seq, root.hex(), tip.seq, tip.hash, issued_at)

        broken, digest = await asyncio.to_thread(check)
        read = sum(1 for item in items if int(item["seq"]) <= tip.seq)
        return Verification(tip, read, broken, digest)
