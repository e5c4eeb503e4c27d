"""The ``audit`` table: items are created, never updated or deleted.

Nothing here can change an item once written — there is no update or delete
method, every put is conditional on the id being new, and the table is
declared ``append_only`` (its IAM policy grants no update or delete either).
``before``/``after``/``error`` are stored as JSON text: the peers' records go
in exactly as they were, whatever their shape (DynamoDB takes no floats).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, values

FIRST_DAY = "first-day"
"""The one item that is not a record: the day of the first record, written
once (before that record); newest-first reads over days stop there. Record ids start with a year,
so they never collide with it, and it has none of the indexes' keys."""
MAX_JSON = 300_000
"""Bytes of one ``before``/``after`` kept verbatim (an item holds at most 400 KB)."""
_JSON_FIELDS = ("before", "after", "error")


def _to_text(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    if len(text.encode()) <= MAX_JSON:
        return text
    return json.dumps({"truncated": True, "prefix": text[: MAX_JSON // 2]})


class AuditStore:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._first_day: str | None = None

    async def append(self, record: Item) -> None:
        """Create one record (``id`` must be new)."""
        item = {k: v for k, v in record.items() if v is not None}
        for name in _JSON_FIELDS:
            if name in item:
                item[name] = _to_text(item[name])
        if self._first_day is None:
            # Marked before the record: no record can predate the first day.
            await self._mark_first_day(str(record["day"]))
        await self.table.put(item, condition="attribute_not_exists(#id)", names={"#id": "id"})

    async def _mark_first_day(self, day: str) -> None:
        with contextlib.suppress(ConditionFailed):  # an earlier record marked it
            await self.table.put(
                {"id": FIRST_DAY, "firstDay": day},
                condition="attribute_not_exists(#id)",
                names={"#id": "id"},
            )
        self._first_day = await self.first_day()

    async def first_day(self) -> str | None:
        """The day of the first record ever written, or ``None`` before any."""
        if self._first_day is None:
            item = await self.table.get({"id": FIRST_DAY})
            self._first_day = str(item["firstDay"]) if item else None
        return self._first_day

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
        """One index partition, newest first (ids sort by time), optionally
        filtered on other attributes' equality."""
        names = {"#k": key}
        bound: dict[str, str] = {"k": value}
        conditions = []
        for i, (attribute, wanted) in enumerate(sorted(where.items())):
            names[f"#f{i}"] = attribute
            bound[f"f{i}"] = wanted
            conditions.append(f"#f{i} = :f{i}")
        items, last = await self.table.query(
            "#k = :k",
            values=values(**bound),
            names=names,
            index=index,
            limit=limit,
            start=start,
            forward=False,
            filter_expression=" AND ".join(conditions) or None,
        )
        return [_from_item(i) for i in items], last


def _from_item(item: Item) -> Item:
    record = dict(item)
    for name in _JSON_FIELDS:
        if isinstance(record.get(name), str):
            record[name] = json.loads(record[name])
    return record
