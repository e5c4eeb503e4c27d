"""The ledger's tables; nothing else reads or writes them.

- ``journal`` (pk ``seq`` N; GSI ``by-subject`` = ``subject`` + ``seq``): one
  item per entry, written once with ``attribute_not_exists(seq)``, never
  updated or deleted.
- ``heads`` (pk ``name``): the chain's tip (``"tip"`` → ``{tipSeq, tipHash,
  tipRecordedAt}``), one item per idempotency key (``"key#<key>"`` → ``{seq,
  fingerprint}``) and the pointer to the newest anchored digest
  (``"digest#latest"``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, from_wire, values
from mindlinks_kit.records import Record
from mindlinks_ledger.chain import ZERO_HASH, Entry
from mindlinks_ledger.domain import Tip

TIP = "tip"
KEY_PREFIX = "key#"
LATEST_DIGEST = "digest#latest"
_BATCH_GET = 100
HASH_PROJECTION = "#s, entryHash"
HASHES = {"#s": "seq"}
CHAIN_AT_ONCE = 49
"""Entries one transaction appends: two writes each and the tip, of 100."""
_CONTENDED = ("TransactionCanceledException", "TransactionConflictException")


class Contended(Exception):
    """Another append won the race: the tip moved, or the seq or key is taken."""


@dataclass(frozen=True)
class KeyRecord:
    seq: int
    fingerprint: str


TIPS = Record(
    Tip,
    names={"seq": "tipSeq", "hash": "tipHash", "recorded_at": "tipRecordedAt"},
    absent={"recorded_at": ""},
)
KEYS = Record(KeyRecord, absent={"fingerprint": ""})


def entry_of(item: Item) -> Entry:
    """An entry from its item; ``ValueError`` when the item is not one (tampered)."""
    return Entry.from_json(item)


class JournalStore:
    def __init__(self, journal: Table, heads: Table) -> None:
        self.journal = journal
        self.heads = heads

    @property
    def client(self) -> Any:
        return self.journal.client

    async def tip(self) -> Tip:
        item = await self.heads.get({"name": TIP})
        return TIPS.read(item) if item else Tip(0, ZERO_HASH, "")

    async def key(self, idempotency_key: str) -> KeyRecord | None:
        item = await self.heads.get({"name": KEY_PREFIX + idempotency_key})
        return KEYS.read(item) if item else None

    async def item(self, seq: int) -> Item | None:
        return await self.journal.get({"seq": seq})

    async def append(self, entry: Entry, expected_tip: int, fingerprint: str, at: str) -> None:
        """One transaction: the entry (must be new), the tip (must still be
        ``expected_tip``) and the idempotency key (must be new). ``Contended``
        when any condition fails or a concurrent transaction conflicts."""
        await self.append_chain([entry], expected_tip, [fingerprint], at)

    async def append_chain(
        self, entries: list[Entry], expected_tip: int, fingerprints: list[str], at: str
    ) -> None:
        """``append`` for consecutive entries at once: each entry and its key
        (all new), the tip moved from ``expected_tip`` to the last, in one
        transaction (at most ``CHAIN_AT_ONCE`` entries)."""
        if not 0 < len(entries) <= CHAIN_AT_ONCE:
            raise ValueError(f"one transaction appends 1 to {CHAIN_AT_ONCE} entries")
        uow = UnitOfWork(self.client)
        for entry in entries:
            uow.put(
                self.journal,
                entry.as_json(),
                condition="attribute_not_exists(#s)",
                names={"#s": "seq"},
                on_conflict=Contended("seq taken"),
            )
        last = entries[-1]
        tip = {
            "name": TIP,
            **TIPS.item(Tip(last.seq, last.entry_hash, last.recorded_at)),
            "updatedAt": at,
        }
        if expected_tip == 0:
            uow.put(
                self.heads,
                tip,
                condition="attribute_not_exists(#n)",
                names={"#n": "name"},
                on_conflict=Contended("tip moved"),
            )
        else:
            uow.put(
                self.heads,
                tip,
                condition="tipSeq = :expected",
                values=values(expected=expected_tip),
                on_conflict=Contended("tip moved"),
            )
        for entry, fingerprint in zip(entries, fingerprints, strict=True):
            uow.put(
                self.heads,
                {
                    "name": KEY_PREFIX + entry.idempotency_key,
                    **KEYS.item(KeyRecord(entry.seq, fingerprint)),
                    "createdAt": at,
                },
                condition="attribute_not_exists(#n)",
                names={"#n": "name"},
                on_conflict=Contended("key taken"),
            )
        try:
            await uow.commit()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _CONTENDED:
                raise Contended(exc.response["Error"]["Code"]) from exc
            raise

    async def subject_page(
        self, subject: str, limit: int, start: Item | None
    ) -> tuple[list[Item], Item | None]:
        return await self.journal.query(
            "#sub = :subject",
            names={"#sub": "subject"},
            values=values(subject=subject),
            index="by-subject",
            limit=limit,
            start=start,
        )

    async def range(self, first: int, last: int, projection: str | None = None) -> dict[int, Item]:
        """Items ``first..last`` by seq (consistent reads); absent ones are missing."""
        return await self.items(list(range(first, last + 1)), projection)

    async def items(self, seqs: list[int], projection: str | None = None) -> dict[int, Item]:
        """Items by seq, a hundred a call (consistent reads); absent ones are missing."""
        found: dict[int, Item] = {}
        seqs = list(dict.fromkeys(seqs))
        for start in range(0, len(seqs), _BATCH_GET):
            keys: list[dict[str, Any]] = [{"seq": {"N": str(s)}} for s in seqs[start : start + 100]]
            read: dict[str, Any] = {"Keys": keys, "ConsistentRead": True}
            if projection:
                read |= {"ProjectionExpression": projection, "ExpressionAttributeNames": HASHES}
            request: dict[str, Any] = {self.journal.name: read}
            while request:
                response = await self.client.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self.journal.name, []):
                    item = from_wire(raw)
                    found[int(item["seq"])] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    async def scan(self, projection: str | None = None, segments: int = 4) -> list[Item]:
        """Every journal item (consistent, in parallel segments), sorted by seq."""

        async def segment(number: int) -> list[Item]:
            items: list[Item] = []
            args: dict[str, Any] = {
                "TableName": self.journal.name,
                "ConsistentRead": True,
                "Segment": number,
                "TotalSegments": segments,
            }
            if projection:
                args["ProjectionExpression"] = projection
                args["ExpressionAttributeNames"] = HASHES
            while True:
                response = await self.client.scan(**args)
                items.extend(from_wire(raw) for raw in response.get("Items", []))
                last = response.get("LastEvaluatedKey")
                if not last:
                    return items
                args["ExclusiveStartKey"] = last

        parts = await asyncio.gather(*(segment(n) for n in range(segments)))
        return sorted((i for part in parts for i in part), key=lambda i: int(i.get("seq", 0)))

    async def entry_hashes(self) -> list[Item]:
        """``{seq, entryHash}`` of every entry, sorted by seq."""
        return await self.scan(projection=HASH_PROJECTION)

    async def entry_hashes_between(self, first: int, last: int) -> list[Item]:
        """``{seq, entryHash}`` of entries ``first..last`` (absent ones left out)."""
        found = await self.range(first, last, projection=HASH_PROJECTION)
        return [found[seq] for seq in sorted(found)]

    async def latest_digest(self) -> Item | None:
        return await self.heads.get({"name": LATEST_DIGEST})

    async def point_to_digest(self, pointer: Item) -> bool:
        """Make ``pointer`` the newest digest unless a newer one is already there."""
        try:
            await self.heads.put(
                {**pointer, "name": LATEST_DIGEST},
                condition=(
                    "attribute_not_exists(#n) OR treeSize < :size "
                    "OR (treeSize = :size AND issuedAt < :at)"
                ),
                names={"#n": "name"},
                values=values(size=pointer["treeSize"], at=pointer["issuedAt"]),
            )
        except ConditionFailed:
            return False
        return True
