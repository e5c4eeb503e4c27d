"""What an idle task reads: revocations reload only when a token is checked
against a stale copy, and the outbox sweep backs off while it finds nothing."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from mindlinks_kit.declaration import Revocation
from mindlinks_kit.dynamo import Item, Table
from mindlinks_kit.events.outbox import Relay
from mindlinks_kit.revocations import Revocations


class CountingTable:
    """The revocations table's scan, counted; ``fail`` makes it raise."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.scans = 0
        self.fail = False

    async def scan(self, limit: int, start: Any = None) -> tuple[list[Item], None]:
        self.scans += 1
        await asyncio.sleep(0.01)  # a real round trip: concurrent checks overlap it
        if self.fail:
            raise ConnectionError("the table does not answer")
        return self.items, None


def revocations(table: CountingTable, refresh_seconds: float) -> Revocations:
    rule = Revocation(event="user.suspended", claim="sub", field="userId")
    return Revocations(
        cast(Table, table), [rule], retention_seconds=3600, refresh_seconds=refresh_seconds
    )


def record(subject: str, revoked_at: int) -> Item:
    return {
        "subject": f"sub#{subject}",
        "claim": "sub",
        "value": subject,
        "revokedAtMs": revoked_at * 1000,
        "expiresAt": 2**40,
    }


async def test_an_idle_task_reads_nothing_and_a_check_reloads_a_stale_copy() -> None:
    table = CountingTable([record("u1", 1_000)])
    checks = revocations(table, refresh_seconds=60)
    await asyncio.sleep(0.05)
    assert table.scans == 0  # no timer: nothing is read until a token is checked
    assert await checks.is_revoked({"sub": "u1", "iat": 999})
    assert not await checks.is_revoked({"sub": "u1", "iat": 1_001})
    assert table.scans == 1  # fresh for the next 60 s


async def test_concurrent_checks_share_one_reload() -> None:
    table = CountingTable([record("u1", 1_000)])
    checks = revocations(table, refresh_seconds=60)
    answers = await asyncio.gather(*(checks.is_revoked({"sub": "u1", "iat": 5}) for _ in range(20)))
    assert answers == [True] * 20
    assert table.scans == 1


async def test_a_stale_copy_is_reloaded_before_the_check() -> None:
    table = CountingTable([])
    checks = revocations(table, refresh_seconds=0.05)
    assert not await checks.is_revoked({"sub": "u2", "iat": 5})
    table.items = [record("u2", 1_000)]  # another task recorded a revocation
    await asyncio.sleep(0.06)
    assert await checks.is_revoked({"sub": "u2", "iat": 5})
    assert table.scans == 2


async def test_a_failed_reload_keeps_the_last_copy_and_waits_an_interval() -> None:
    table = CountingTable([record("u3", 1_000)])
    checks = revocations(table, refresh_seconds=0.05)
    assert await checks.is_revoked({"sub": "u3", "iat": 5})
    table.fail = True
    await asyncio.sleep(0.06)
    assert await checks.is_revoked({"sub": "u3", "iat": 5})  # the last copy still refuses
    assert await checks.is_revoked({"sub": "u3", "iat": 5})
    assert table.scans == 2  # one failed reload, not one per check


def test_the_outbox_sweep_backs_off_while_idle_and_returns_after_activity() -> None:
    relay = Relay(cast(Table, None), cast(Any, None), "bus", cast(Any, None), 5.0, 60.0)
    waits = [relay.sweep_after]
    for _ in range(6):
        relay.sweep_after = relay.next_sweep(woken=False, sent=0)
        waits.append(relay.sweep_after)
    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]
    assert relay.next_sweep(woken=True, sent=0) == 5.0  # a commit woke it
    assert relay.next_sweep(woken=False, sent=3) == 5.0  # the sweep found work
