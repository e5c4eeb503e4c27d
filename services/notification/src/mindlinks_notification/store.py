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
from mindlinks_notification.domain import AlreadyRecorded, InApp
from mindlinks_notification.templates import TemplateSpec

SEED = "seed"


def _storable(data: Any) -> Any:
    """JSON data as DynamoDB takes it (numbers with a fraction as ``Decimal``)."""
    return json.loads(json.dumps(data, default=str), parse_float=Decimal)


def _notification_item(n: InApp) -> Item:
    return {
        "id": n.id,
        "userId": n.user_id,
        "createdAt": n.created_at,
        "template": n.template,
        "title": n.title,
        "body": n.body,
        "readAt": n.read_at,
        "data": _storable(n.data),
    }


def _notification_from(item: Item) -> InApp:
    return InApp(
        id=item["id"],
        user_id=item["userId"],
        created_at=item["createdAt"],
        template=item["template"],
        title=item["title"],
        body=item["body"],
        data=item.get("data") or {},
        read_at=item.get("readAt"),
    )


def _template_from(item: Item) -> TemplateSpec:
    return TemplateSpec(
        name=item["name"],
        subject=item["subject"],
        text=item["text"],
        html=item["html"],
        channels=tuple(item.get("channels") or ("email",)),
        variables=tuple(item.get("variables") or ()),
        description=item.get("description", ""),
        revision=int(item.get("revision", 1)),
    )


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
        return _notification_from(item) if item else None

    async def page(
        self, user_id: str, limit: int, start: Item | None
    ) -> tuple[list[InApp], Item | None]:
        """Newest first. Reads one item more than asked so the last page has no
        cursor (instead of a cursor to an empty page)."""
        items, _ = await self.notifications.query(
            "userId = :u",
            values=values(u=user_id),
            index="by-user",
            limit=limit + 1,
            start=start,
            forward=False,
        )
        page = [_notification_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, None
        last = page[-1]
        return page, {"id": last.id, "userId": last.user_id, "createdAt": last.created_at}

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
        return _template_from(item) if item else None

    async def seed_template(self, spec: TemplateSpec) -> bool:
        """Write a default template unless a newer or hand-edited one is there."""
        item: dict[str, Any] = {
            "name": spec.name,
            "subject": spec.subject,
            "text": spec.text,
            "html": spec.html,
            "channels": list(spec.channels),
            "variables": list(spec.variables),
            "description": spec.description,
            "revision": spec.revision,
            "source": SEED,
            "updatedAt": now_iso(),
        }
        try:
            await self.templates.put(
                item,
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
