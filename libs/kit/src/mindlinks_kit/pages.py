"""Pages of a table, the way every list the services answer is read.

A page reads one item more than it returns, so the last page comes without
a cursor (instead of with one to an empty page); while a filter thins the
reads out it reads on, a bounded number of times, to fill the page. Where the
next page starts is the last returned item's key in what was read — the
index's key and the table's, as the fleet declares them — for the caller to
sign into a cursor (``CursorCodec``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mindlinks_kit.dynamo import Item, Table, values

if TYPE_CHECKING:
    from mindlinks_kit.declaration import Key

PageRead = Callable[[Item | None, int], Awaitable[tuple[list[Item], Item | None]]]
"""One read of a page: ``(start, limit) → (items, last evaluated key)``."""
MAX_PAGE_READS = 10


async def filled_page(
    read: PageRead, limit: int, start: Item | None, position: Sequence[str]
) -> tuple[list[Item], Item | None]:
    """Up to ``limit`` items from successive reads of one more than that, and
    where the next page starts: after the last item returned (``position``
    names the attributes of the read's key), or where the reading stopped
    when the reads ran out first, or ``None`` after the end."""
    found: list[Item] = []
    last = start
    for _ in range(MAX_PAGE_READS):
        items, last = await read(last, limit + 1)
        found.extend(items)
        if len(found) > limit or last is None:
            break
    if len(found) > limit:
        found = found[:limit]
        return found, {name: found[-1][name] for name in position}
    return found, last


async def query_page(
    table: Table,
    index: str | None,
    partition: Mapping[str, Any],
    limit: int,
    start: Item | None,
    *,
    forward: bool = True,
    where: Mapping[str, Any] | None = None,
    batch: int = 0,
) -> tuple[list[Item], Item | None]:
    """One page of a partition of ``index`` (of the table itself without
    one), ``{partition key: value}``, in sort key order (``forward=False``:
    descending); ``where``: only the items whose attributes equal these.
    ``batch``: read at least this many items a request, where the filter
    drops most of them."""
    ((attribute, value),) = partition.items()
    position = _position(table, index)
    if position[0] != attribute:
        raise ValueError(f"{index or table.name} is partitioned by {position[0]}, not {attribute}")
    names, bound, condition = _equal(where or {})

    async def read(cursor: Item | None, size: int) -> tuple[list[Item], Item | None]:
        return await table.query(
            "#k = :k",
            values=values(k=value, **bound),
            names={"#k": attribute, **names},
            index=index,
            limit=max(size, batch),
            start=cursor,
            forward=forward,
            filter_expression=condition,
        )

    return await filled_page(read, limit, start, position)


async def scan_page(
    table: Table, limit: int, start: Item | None, *, where: Mapping[str, Any] | None = None
) -> tuple[list[Item], Item | None]:
    """One page of a scan, in the table's order (for operators' lists only: a
    scan reads the whole table); ``where`` as for ``query_page``."""
    position = _position(table, None)
    names, bound, condition = _equal(where or {})

    async def read(cursor: Item | None, size: int) -> tuple[list[Item], Item | None]:
        return await table.scan(
            limit=size,
            start=cursor,
            filter_expression=condition,
            names=names or None,
            values=values(**bound) if bound else None,
        )

    return await filled_page(read, limit, start, position)


def _position(table: Table, index: str | None) -> tuple[str, ...]:
    """The attributes of an item's key in ``index`` (in the table without
    one): the index's partition and sort key, then the table's."""
    declared = table.declared
    if declared is None:
        raise ValueError(f"{table.name} was not built from its declaration")
    keys: list[Key | None] = [declared.pk, declared.sk]
    if index is not None:
        spec = next((i for i in declared.indexes if i.name == index), None)
        if spec is None:
            raise ValueError(f"{declared.name} declares no index {index!r}")
        keys = [spec.pk, spec.sk, *keys]
    return tuple(dict.fromkeys(key.name for key in keys if key is not None))


def _equal(where: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any], str | None]:
    """A filter on attribute equality: its names, values and expression
    (every name through a placeholder: ``status`` is a reserved word)."""
    names = {f"#w{i}": attribute for i, attribute in enumerate(where)}
    bound = {f"w{i}": wanted for i, wanted in enumerate(where.values())}
    condition = " AND ".join(f"#w{i} = :w{i}" for i in range(len(where)))
    return names, bound, condition or None
