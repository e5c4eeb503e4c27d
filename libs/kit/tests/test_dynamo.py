from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import (
    ConditionFailed,
    CursorCodec,
    InvalidCursor,
    StaleVersion,
    Table,
    UnitOfWork,
)


def test_cursors_round_trip_and_cannot_be_forged_or_moved() -> None:
    codec = CursorCodec(b"secret")
    token = codec.encode({"id": "a1", "n": 3}, scope="user:1")
    assert token is not None
    assert codec.decode(token, scope="user:1") == {"id": "a1", "n": 3}
    with pytest.raises(InvalidCursor):
        codec.decode(token, scope="user:2")  # another list's cursor
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other").decode(token, scope="user:1")  # forged with another key
    with pytest.raises(InvalidCursor):
        codec.decode(token[:-3] + "AAA", scope="user:1")
    with pytest.raises(InvalidCursor):
        codec.decode("!!!", scope="user:1")
    assert codec.encode(None, "s") is None
    assert codec.decode(None, "s") is None


async def test_create_is_unique_and_replace_is_optimistically_locked(toy: Running) -> None:
    runtime = toy.runtime("alpha")
    things = runtime.table("things")
    uow = runtime.uow()
    uow.create(things, {"id": "locked-1", "size": 1}, key="id")
    await uow.commit()

    again = runtime.uow()
    again.create(things, {"id": "locked-1", "size": 2}, key="id")
    with pytest.raises(ConditionFailed):
        await again.commit()

    item = await things.get({"id": "locked-1"})
    assert item == {"id": "locked-1", "size": 1, "version": 1}
    first, second = runtime.uow(), runtime.uow()
    first.replace(things, {**item, "size": 10}, expected_version=1)
    second.replace(things, {**item, "size": 20}, expected_version=1)
    await first.commit()
    with pytest.raises(StaleVersion):
        await second.commit()
    assert await things.get({"id": "locked-1"}) == {"id": "locked-1", "size": 10, "version": 2}


async def test_get_many_answers_in_the_keys_order_with_none_where_absent(toy: Running) -> None:
    things = toy.runtime("alpha").table("things")
    for n in range(3):
        await things.put({"id": f"many-{n}", "size": n})
    keys = [{"id": "many-2"}, {"id": "many-absent"}, {"id": "many-0"}, {"id": "many-2"}]
    found = await things.get_many(keys)
    assert [item["size"] if item else None for item in found] == [2, None, 0, 2]
    assert await things.get_many([]) == []
    # More keys than one BatchGetItem takes.
    many = await things.get_many([{"id": f"many-{n}"} for n in range(150)])
    assert len(many) == 150
    assert [item["size"] for item in many if item] == [0, 1, 2]


class Contended:
    """A DynamoDB client whose transactions lose to a concurrent one."""

    async def transact_write_items(self, **_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
            },
            "TransactWriteItems",
        )


async def test_a_transaction_that_lost_to_a_concurrent_one_is_a_stale_read() -> None:
    uow = UnitOfWork(Contended())  # type: ignore[arg-type]
    table = Table(Contended(), "things")  # type: ignore[arg-type]
    uow.put(table, {"id": "a"})
    uow.put(table, {"id": "b"})
    with pytest.raises(StaleVersion):
        await uow.commit()
