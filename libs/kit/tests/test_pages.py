from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import Item, Table
from mindlinks_kit.pages import MAX_PAGE_READS, PageRead, filled_page, query_page, scan_page


def reads_of(items: list[Item], keep: set[str] | None = None) -> tuple[list[int], PageRead]:
    """A fake read over ``items`` in order (``start`` is the last key read),
    dropping those not in ``keep`` as a filter would; the sizes it was asked for."""
    sizes: list[int] = []

    async def read(start: Item | None, size: int) -> tuple[list[Item], Item | None]:
        sizes.append(size)
        at = 0 if start is None else [i["id"] for i in items].index(start["id"]) + 1
        evaluated = items[at : at + size]
        last = {"id": evaluated[-1]["id"]} if at + size < len(items) else None
        return [i for i in evaluated if keep is None or i["id"] in keep], last

    return sizes, read


async def test_a_page_reads_one_more_and_its_cursor_is_the_last_returned_key() -> None:
    items = [{"id": f"i{n}", "at": n, "other": "x"} for n in range(5)]
    sizes, read = reads_of(items)
    page, cursor = await filled_page(read, 2, None, ("id", "at"))
    assert page == items[:2]
    assert cursor == {"id": "i1", "at": 1}
    assert sizes == [3]


async def test_the_last_page_has_no_cursor() -> None:
    items = [{"id": f"i{n}"} for n in range(4)]
    _, read = reads_of(items)
    page, cursor = await filled_page(read, 2, {"id": "i1"}, ("id",))
    assert page == items[2:]
    assert cursor is None


async def test_a_filtered_page_reads_on_until_full_and_then_stops_where_reading_stopped() -> None:
    items = [{"id": f"i{n:03}"} for n in range(100)]
    _, read = reads_of(items, keep={"i000", "i007", "i008", "i050"})
    page, cursor = await filled_page(read, 2, None, ("id",))
    assert page == [{"id": "i000"}, {"id": "i007"}]
    assert cursor == {"id": "i007"}

    sizes, read = reads_of(items, keep={"i099"})
    page, cursor = await filled_page(read, 2, None, ("id",))
    assert page == []
    assert cursor == {"id": f"i{3 * MAX_PAGE_READS - 1:03}"}
    assert len(sizes) == MAX_PAGE_READS


async def read_all(
    page: Callable[[Item | None], Awaitable[tuple[list[Item], Item | None]]],
) -> list[Item]:
    """Every page from the first, each within its limit (2), until one has no cursor."""
    seen: list[Item] = []
    start: Item | None = None
    while True:
        items, start = await page(start)
        assert len(items) <= 2
        seen.extend(items)
        if start is None:
            return seen


async def test_pages_of_an_index_and_of_a_scan_cover_a_partition_once_each(toy: Running) -> None:
    things = toy.runtime("alpha").table("things")
    batch = uuid.uuid4().hex
    for n in range(7):
        await things.put({"id": f"page-{batch}-{n}", "batch": batch, "n": n, "odd": n % 2 == 1})

    newest = await read_all(
        lambda start: query_page(things, "by-batch", {"batch": batch}, 2, start, forward=False)
    )
    assert [item["n"] for item in newest] == [6, 5, 4, 3, 2, 1, 0]

    odd = await read_all(
        lambda start: query_page(
            things, "by-batch", {"batch": batch}, 2, start, where={"odd": True}
        )
    )
    assert [item["n"] for item in odd] == [1, 3, 5]

    scanned = await read_all(lambda start: scan_page(things, 2, start, where={"batch": batch}))
    assert sorted(item["n"] for item in scanned) == list(range(7))


async def test_a_page_starts_after_the_last_item_in_the_index_and_table_keys(toy: Running) -> None:
    things = toy.runtime("alpha").table("things")
    batch = uuid.uuid4().hex
    for n in range(3):
        await things.put({"id": f"key-{batch}-{n}", "batch": batch, "n": n})
    _, start = await query_page(things, "by-batch", {"batch": batch}, 1, None)
    assert start == {"batch": batch, "n": 0, "id": f"key-{batch}-0"}
    _, start = await scan_page(things, 1, None)
    assert start is not None
    assert set(start) == {"id"}


async def test_a_partition_is_named_by_the_declared_key(toy: Running) -> None:
    things = toy.runtime("alpha").table("things")
    with pytest.raises(ValueError, match="partitioned by batch"):
        await query_page(things, "by-batch", {"id": "x"}, 1, None)
    with pytest.raises(ValueError, match="no index"):
        await query_page(things, "by-size", {"size": 1}, 1, None)
    with pytest.raises(ValueError, match="declaration"):
        await scan_page(Table(things.client, things.name), 1, None)
