"""Reading the audit trail: filters, newest first, signed cursors — against
the real table; the day-by-day walk's rules without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_admin.domain import Actor, Filters
from mindlinks_admin.service.audit import Audit, AuditUnavailable
from mindlinks_kit.dynamo import CursorCodec, Item

if TYPE_CHECKING:
    from conftest import Desk


async def test_filters_order_and_pages(desk: Desk) -> None:
    admin_id, headers = await desk.new_admin()
    other = type(desk)(desk.fleet, headers, admin_id)
    users = [uuid.uuid4().hex for _ in range(3)]
    for user_id in users:  # unknown users: 404, nothing recorded
        assert (await other.get(f"/users/{user_id}")).status_code == 404
    assert await other.audit(actorUserId=admin_id) == []

    client = await desk.parties.client()
    for _ in range(3):
        assert (await other.get(f"/users/{client.user_id}")).status_code == 200
    assert (await other.get(f"/companies/{client.company_id}")).status_code == 200
    mine = await other.audit(actorUserId=admin_id)
    assert [r["action"] for r in mine] == ["company.view"] + ["user.view"] * 3
    assert [r["id"] for r in mine] == sorted((r["id"] for r in mine), reverse=True)
    assert await other.audit(actorUserId=admin_id, action="company.view") == mine[:1]
    assert await other.audit(target=f"user:{client.user_id}", actorUserId=admin_id) == mine[1:]

    # Pages of two, following the signed cursor to the end.
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(5):
        page = await other.get("/audit", actorUserId=admin_id, limit=2, **_cursor(cursor))
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert seen == mine

    # A cursor belongs to its list: another filter refuses it.
    first = (await other.get("/audit", actorUserId=admin_id, limit=1)).json()
    refused = await other.get("/audit", actorUserId=desk.user_id, cursor=first["nextCursor"])
    desk.problem(refused, 422, "invalid-cursor")
    desk.problem(await other.get("/audit", limit=500), 422, "invalid-input")

    # Without an actor or target: the whole trail, newest first, day by day.
    everything = await other.audit(limit=100)
    assert everything[0] == mine[0]
    assert [r["id"] for r in everything] == sorted((r["id"] for r in everything), reverse=True)
    views = await other.audit(action="company.view", limit=100)
    assert views[0] == mine[0]
    assert {r["action"] for r in views} == {"company.view"}


def _cursor(cursor: str | None) -> dict[str, str]:
    return {"cursor": cursor} if cursor else {}


# the day walk, without I/O --------------------------------------------------------


class Trail:
    """The store's reads over an in-memory trail (ids sort by time, as written)."""

    def __init__(self, records: list[Item]) -> None:
        self.records = sorted(records, key=lambda r: r["id"], reverse=True)
        self.queries = 0

    async def first_day(self) -> str | None:
        return min((r["day"] for r in self.records), default=None)

    async def newest(
        self,
        index: str,
        key: str,
        value: str,
        *,
        limit: int,
        start: Item | None,
        where: dict[str, str],
    ) -> tuple[list[Item], Item | None]:
        self.queries += 1
        rows = [r for r in self.records if r[key] == value]
        if start is not None:
            rows = [r for r in rows if r["id"] < start["id"]]
        evaluated = rows[:limit]
        last = {"id": evaluated[-1]["id"]} if len(rows) > limit else None
        found = [r for r in evaluated if all(r.get(k) == v for k, v in where.items())]
        return found, last


def record(days_ago: int, n: int, action: str = "user.view") -> Item:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "id": at.strftime("%Y%m%dT%H%M%S.%fZ") + f"-{n:08x}",
        "day": at.date().isoformat(),
        "action": action,
        "actorUserId": "a",
        "target": "user:u",
    }


def audit_over(trail: Trail, days_per_page: int = 31) -> Audit:
    return Audit(trail, CursorCodec(b"k"), days_per_page)  # type: ignore[arg-type]


async def walk(audit: Audit, filters: Filters, limit: int) -> tuple[list[Item], int]:
    items: list[Item] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = await audit.page(filters, limit, cursor)
        pages += 1
        items += page
        if cursor is None:
            return items, pages


async def test_the_walk_crosses_days_and_gaps_and_ends_at_the_first_day() -> None:
    records = [record(0, 1), record(0, 2), record(3, 3), record(40, 4), record(90, 5)]
    trail = Trail(records)
    items, pages = await walk(audit_over(trail), Filters(), limit=2)
    assert [r["id"] for r in items] == [r["id"] for r in trail.records]
    # 91 days at most 31 a page: the empty stretches cost short pages, not a scan.
    assert pages >= 3


async def test_the_walk_filters_by_action_and_stops_at_the_first_day() -> None:
    records = [record(0, 1), record(1, 2, "user.suspend"), record(2, 3), record(5, 4, "x")]
    trail = Trail(records)
    items, _ = await walk(audit_over(trail), Filters(action="user.view"), limit=10)
    assert [r["id"] for r in items] == [records[0]["id"], records[2]["id"]]
    assert trail.queries == 6  # today and the five days back to the first


async def test_an_empty_trail_reads_nothing() -> None:
    trail = Trail([])
    assert await audit_over(trail).page(Filters(), 10, None) == ([], None)
    assert trail.queries == 0


class Broken:
    async def append(self, record: Item) -> None:
        raise ConnectionError("dynamodb is down")


async def test_no_change_without_its_requested_record() -> None:
    audit = Audit(Broken(), CursorCodec(b"k"), 31)  # type: ignore[arg-type]
    applied: list[bool] = []

    async def apply() -> bool:
        applied.append(True)
        return True

    with pytest.raises(AuditUnavailable, match="Nothing was changed") as raised:
        await audit.change(
            Actor("a"), "user.suspend", "user:u", reason="r", before=None, apply=apply
        )
    assert raised.value.body()["status"] == 503
    assert applied == []
