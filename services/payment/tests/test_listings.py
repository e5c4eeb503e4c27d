"""Merging index partitions into one time-ordered list, page by page, on the
real table and index (partitions of their own, so nothing else is in them)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import Item
from mindlinks_payment.listings import Listing


@pytest.fixture
async def streams(fleet: Running) -> tuple[Listing[str], list[str]]:
    """Three partitions of ``by-status``: a at minutes 1, 4, 5; b at 2; c at 3, 6."""
    table = fleet.runtime("payment").table("transactions")
    tag = uuid.uuid4().hex[:8]
    partitions = [f"test-{tag}-{name}" for name in "abc"]
    a, b, c = partitions
    for minute, partition in [(1, a), (4, a), (5, a), (2, b), (3, c), (6, c)]:
        await table.put(
            {
                "id": f"{tag}-{minute}",
                "status": partition,
                "createdAt": f"2020-01-01T00:0{minute}:00.000000Z",
            }
        )
    listing: Listing[str] = Listing(table, "by-status", "status", "createdAt", lambda i: i["id"])
    return listing, partitions


async def walk(listing: Listing[str], partitions: list[str], **options: Any) -> list[list[str]]:
    found: list[list[str]] = []
    start: Item | None = None
    while True:
        page, start = await listing.merged(partitions, start=start, **options)
        found.append([i.split("-")[1] for i in page])
        if start is None:
            return found
        assert len(found) < 10


async def test_oldest_first_across_partitions(streams: tuple[Listing[str], list[str]]) -> None:
    listing, partitions = streams
    pages = await walk(listing, partitions, limit=2, newest_first=False)
    assert pages == [["1", "2"], ["3", "4"], ["5", "6"]]
    assert await walk(listing, partitions, limit=6, newest_first=False) == [
        ["1", "2", "3", "4", "5", "6"]
    ]


async def test_newest_first_with_a_bound(streams: tuple[Listing[str], list[str]]) -> None:
    listing, partitions = streams
    pages = await walk(listing, partitions, limit=4, newest_first=True)
    assert pages == [["6", "5", "4", "3"], ["2", "1"]]
    bounded = await walk(
        listing, partitions, limit=1, newest_first=False, before="2020-01-01T00:04:00.000000Z"
    )
    assert bounded == [["1"], ["2"], ["3"]]


async def test_empty_partitions_end_at_once(streams: tuple[Listing[str], list[str]]) -> None:
    listing, _ = streams
    assert await walk(listing, [f"test-{uuid.uuid4().hex}"], limit=5, newest_first=True) == [[]]
