"""The notification service's storage: the ``notifications`` table (in-app,
listed per user through the ``by-user`` index), the ``templates`` table, and
the Redis keys that make each email go out once."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis

from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record
from mindlinks_notification.domain import AlreadyRecorded, InApp
from mindlinks_notification.templates import TemplateSpec

SEED = "seed"


def _storable(data: Any) -> Any:
    """JSON data as DynamoDB takes it (numbers with a fraction as ``Decimal``)."""
    return json.loads(json.dumps(data, default=str), parse_float=Decimal)


IN_APP = Record(InApp, absent={"data": {}})
TEMPLATES = Record(TemplateSpec)


def _notification_item(notification: InApp) -> Item:
    return {**IN_APP.item(notification), "data": _storable(notification.data)}


class NotificationStore:
    def __init__(self, notifications: Table, templates: Table) -> None:
        self.notifications = notifications
        self.templates = templates

    def add(self, uow: UnitOfWork, notification: InApp) -> None:
        uow.create(
            self.notifications,
            _notification_item(notification),
            key="id",
            on_conflict=AlreadyRecorded(),
        )

    async def get(self, notification_id: str) -> InApp | None:
        item = await self.notifications.get({"id": notification_id})
        return IN_APP.read(item) if item else None

    async def page(
        self, user_id: str, limit: int, start: Item | None
    ) -> tuple[list[InApp], Item | None]:
        """Newest first."""
        items, last = await query_page(
            self.notifications, "by-user", {"userId": user_id}, limit, start, forward=False
        )
        return [IN_APP.read(i) for i in items], last

    async def mark_read(self, notification_id: str, user_id: str, at: str) -> None:
        with contextlib.suppress(ConditionFailed):  # read concurrently: same outcome
            await self.notifications.update(
                {"id": notification_id},
                "SET readAt = :at",
                condition="userId = :u AND attribute_not_exists(readAt)",
                values=values(at=at, u=user_id),
            )

    async def template(self, name: str) -> TemplateSpec | None:
        item = await self.templates.get({"name": name}, consistent=False)
        return TEMPLATES.read(item) if item else None

    async def seed_template(self, spec: TemplateSpec) -> bool:
        """Write a default template unless a newer or hand-edited one is there."""
        try:
            await self.templates.put(
                {**TEMPLATES.item(spec), "source": SEED, "updatedAt": now_iso()},
                condition="attribute_not_exists(#n) OR (#s = :seed AND #r < :r)",
                names={"#n": "name", "#s": "source", "#r": "revision"},
                values=values(seed=SEED, r=spec.revision),
            )
        except ConditionFailed:
            return False
        return True


class EmailClaims:
    """``SET NX`` with a TTL: the first to claim a key sends, repeats do not."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds

    async def claim(self, key: str) -> bool:
        return bool(await self.redis.set(self.prefix + key, now_iso(), nx=True, ex=self.ttl))

    async def release(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
