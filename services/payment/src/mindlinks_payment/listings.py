"""Operator lists across tenants, read through the tables' indexes: one
partition at a time (``by-status``, ``by-state``, ``by-contract``) or several
partitions merged in time order (every status, or every unsettled one).

Where a page starts is an opaque item for the caller to sign into a cursor:
an index key for one partition, or ``{"after": {partition: key}, "done": [...]}``
for a merge.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

from mindlinks_kit.dynamo import Item, Table, values
from mindlinks_kit.pages import PageRead, filled_page
from mindlinks_payment.domain import Escrow, Transaction
from mindlinks_payment.store import ESCROWS, TRANSACTIONS

T = TypeVar("T")


@dataclass(frozen=True)
class Where:
    """Keep only items whose ``attribute`` is one of ``allowed`` (a filter, not a key)."""

    attribute: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One index of one table: partition ``partition``, sorted by ``sort``."""

    table: Table
    index: str
    partition: str
    sort: str
    parse: Callable[[Item], T]

    @property
    def position(self) -> tuple[str, str, str]:
        """The attributes of an item's key in the index (the table's ``id`` too)."""
        return ("id", self.partition, self.sort)

    def key(self, item: Item) -> Item:
        return {name: item[name] for name in self.position}

    def _reader(
        self, value: str, newest_first: bool, before: str | None, where: Where | None
    ) -> PageRead:
        # ``status`` and ``state`` are reserved words: every name goes through a placeholder.
        names = {"#p": self.partition}
        args: dict[str, str] = {"p": value}
        condition = "#p = :p"
        if before is not None:
            names["#s"] = self.sort
            args["before"] = before
            condition += " AND #s < :before"
        filter_expression = None
        if where is not None:
            names["#w"] = where.attribute
            allowed = {f"w{n}": v for n, v in enumerate(where.allowed)}
            args.update(allowed)
            filter_expression = f"#w IN ({', '.join(':' + k for k in allowed)})"

        async def read(start: Item | None, size: int) -> tuple[list[Item], Item | None]:
            return await self.table.query(
                condition,
                values=values(**args),
                names=names,
                index=self.index,
                limit=size,
                start=start,
                forward=not newest_first,
                filter_expression=filter_expression,
            )

        return read

    async def page(
        self,
        value: str,
        *,
        limit: int,
        start: Item | None,
        newest_first: bool,
        before: str | None = None,
        where: Where | None = None,
    ) -> tuple[list[T], Item | None]:
        """One partition in ``sort`` order; ``before`` bounds the sort key (exclusive)."""
        read = self._reader(value, newest_first, before, where)
        items, last = await filled_page(read, limit, start, self.position)
        return [self.parse(i) for i in items], last

    async def merged(
        self,
        partitions: Sequence[str],
        *,
        limit: int,
        start: Item | None,
        newest_first: bool,
        before: str | None = None,
    ) -> tuple[list[T], Item | None]:
        """Several partitions as one list in ``sort`` order: each is read from
        where the last page left it, and the first ``limit`` of all are kept."""
        after: dict[str, Item] = dict(start["after"]) if start else {}
        done: set[str] = set(start["done"]) if start else set()
        live = [p for p in partitions if p not in done]
        reads = await asyncio.gather(
            *(self._reader(p, newest_first, before, None)(after.get(p), limit + 1) for p in live)
        )
        streams = [[(p, item) for item in items] for p, (items, _) in zip(live, reads, strict=True)]
        taken = list(
            islice(
                heapq.merge(*streams, key=lambda pair: pair[1][self.sort], reverse=newest_first),
                limit,
            )
        )
        for partition, item in taken:
            after[partition] = self.key(item)
        for partition, (items, last) in zip(live, reads, strict=True):
            if last is None and sum(1 for p, _ in taken if p == partition) == len(items):
                done.add(partition)
        found = [self.parse(item) for _, item in taken]
        if done.issuperset(partitions):
            return found, None
        return found, {"after": after, "done": sorted(done)}


class Listings:
    """The payment tables' operator lists."""

    def __init__(self, transactions: Table, escrow: Table) -> None:
        self.transactions_by_status: Listing[Transaction] = Listing(
            transactions, "by-status", "status", "createdAt", TRANSACTIONS.read
        )
        self.transactions_by_contract: Listing[Transaction] = Listing(
            transactions, "by-contract", "contractId", "createdAt", TRANSACTIONS.read
        )
        self.escrow_by_state: Listing[Escrow] = Listing(
            escrow, "by-state", "state", "createdAt", ESCROWS.read
        )
        self.escrow_by_contract: Listing[Escrow] = Listing(
            escrow, "by-contract", "contractId", "itemId", ESCROWS.read
        )
