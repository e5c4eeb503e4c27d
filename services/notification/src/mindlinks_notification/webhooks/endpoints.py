"""The webhook management use cases, for a company's admins: endpoints,
secrets (shown once), the delivery log and replays. No FastAPI here.

Another company's endpoint (or delivery) answers as an unknown one (404)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mindlinks_kit import clock
from mindlinks_kit.dynamo import CursorCodec, UnitOfWork
from mindlinks_kit.errors import Conflict, InvalidInput
from mindlinks_notification.webhooks.addresses import AddressPolicy, check_url
from mindlinks_notification.webhooks.deliveries import Deliveries, new_delivery
from mindlinks_notification.webhooks.domain import (
    ROTATION_OVERLAP,
    Delivery,
    DeliveryNotFound,
    Endpoint,
    EndpointDisabled,
    EndpointNotFound,
    SealedSecret,
    new_secret,
)
from mindlinks_notification.webhooks.secrets import SecretBox
from mindlinks_notification.webhooks.store import WebhookStore

MAX_ENDPOINTS = 20
"""Per company."""
MAX_REPLAY = 200
"""Deliveries one range replay may send again."""
MAX_REPLAY_RANGE = timedelta(days=30)
REPLAYS_PER_COMMIT = 40
"""Each replay is two writes (the delivery, its timer); a transaction holds 100."""


class TooManyEndpoints(Conflict):
    code = "webhook-endpoints-limit"
    title = f"A company has at most {MAX_ENDPOINTS} webhook endpoints"


class ReplayRangeInvalid(InvalidInput):
    code = "webhook-replay-range-invalid"
    title = "The replay range is not valid"


@dataclass(frozen=True)
class Changes:
    url: str | None = None
    event_types: tuple[str, ...] | None = None
    enabled: bool | None = None
    description: str | None = None


@dataclass(frozen=True)
class WithSecret:
    endpoint: Endpoint
    secret: str


class Endpoints:
    def __init__(
        self,
        *,
        store: WebhookStore,
        box: SecretBox,
        deliveries: Deliveries,
        policy: AddressPolicy,
        cursors: CursorCodec,
        new_uow: Callable[[], UnitOfWork],
    ) -> None:
        self.store = store
        self.box = box
        self.deliveries = deliveries
        self.policy = policy
        self.cursors = cursors
        self.uow = new_uow

    async def get(self, company_id: str, endpoint_id: str) -> Endpoint:
        found = await self.store.endpoint(endpoint_id)
        if found is None or found.company_id != company_id:
            raise EndpointNotFound()
        return found

    async def page(
        self, company_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Endpoint], str | None]:
        scope = f"webhooks:{company_id}"
        items, last = await self.store.company_page(
            company_id, limit, self.cursors.decode(cursor, scope)
        )
        return items, self.cursors.encode(last, scope)

    async def create(
        self,
        company_id: str,
        user_id: str,
        url: str,
        event_types: tuple[str, ...],
        description: str | None,
    ) -> WithSecret:
        check_url(url, self.policy)
        if len(await self.store.of_company(company_id)) >= MAX_ENDPOINTS:
            raise TooManyEndpoints()
        endpoint_id = uuid.uuid4().hex
        secret = new_secret()
        now = clock.now_iso()
        endpoint = Endpoint(
            id=endpoint_id,
            company_id=company_id,
            url=url,
            event_types=event_types,
            enabled=True,
            secret=SealedSecret(await self.box.seal(endpoint_id, secret), created_at=now),
            created_at=now,
            updated_at=now,
            created_by_user_id=user_id,
            description=description,
        )
        uow = self.uow()
        self.store.create_endpoint(uow, endpoint)
        await uow.commit()
        return WithSecret(endpoint, secret)

    async def update(self, company_id: str, endpoint_id: str, changes: Changes) -> Endpoint:
        endpoint = await self.get(company_id, endpoint_id)
        now = clock.now_iso()
        updated = replace(endpoint, updated_at=now)
        if changes.url is not None:
            updated = replace(updated, url=check_url(changes.url, self.policy))
        if changes.event_types is not None:
            updated = replace(updated, event_types=changes.event_types)
        if changes.description is not None:
            updated = replace(updated, description=changes.description or None)
        if changes.enabled is True and not endpoint.enabled:
            # A fresh start: the old streak would disable it again at once.
            updated = replace(
                updated, enabled=True, disabled_at=None, disabled_reason=None, failing_since=None
            )
        elif changes.enabled is False and endpoint.enabled:
            updated = replace(updated, enabled=False, disabled_at=now, disabled_reason="by-admin")
        uow = self.uow()
        self.store.replace_endpoint(uow, updated)
        await uow.commit()
        return replace(updated, version=endpoint.version + 1)

    async def delete(self, company_id: str, endpoint_id: str) -> None:
        """Its pending deliveries are cancelled at their next attempt."""
        endpoint = await self.get(company_id, endpoint_id)
        uow = self.uow()
        self.store.delete_endpoint(uow, endpoint)
        await uow.commit()

    async def rotate(self, company_id: str, endpoint_id: str) -> WithSecret:
        """A new secret; the current one stays valid (and signed with) for
        ``ROTATION_OVERLAP``. A secret rotated out earlier is dropped at once:
        at most two are valid."""
        endpoint = await self.get(company_id, endpoint_id)
        now = clock.now()
        secret = new_secret()
        updated = replace(
            endpoint,
            secret=SealedSecret(
                await self.box.seal(endpoint.id, secret), created_at=clock.iso(now)
            ),
            previous_secret=replace(endpoint.secret, valid_until=clock.iso(now + ROTATION_OVERLAP)),
            updated_at=clock.iso(now),
        )
        uow = self.uow()
        self.store.replace_endpoint(uow, updated)
        await uow.commit()
        return WithSecret(replace(updated, version=endpoint.version + 1), secret)

    async def delivery_page(
        self, company_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        await self.get(company_id, endpoint_id)
        scope = f"webhook-deliveries:{endpoint_id}"
        items, last = await self.store.delivery_page(
            endpoint_id, limit, self.cursors.decode(cursor, scope)
        )
        return items, self.cursors.encode(last, scope)

    async def delivery(self, company_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
        await self.get(company_id, endpoint_id)
        found = await self.store.delivery(delivery_id)
        if found is None or found.endpoint_id != endpoint_id:
            raise DeliveryNotFound()
        return found

    async def replay(self, company_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
        """Send one delivery's body again, as a new delivery (its own id and
        attempts; the body, and so the event's ``id``, unchanged)."""
        endpoint = await self._enabled(company_id, endpoint_id)
        original = await self.delivery(company_id, endpoint_id, delivery_id)
        again = self._again(endpoint, original, clock.now())
        uow = self.uow()
        self.deliveries.schedule(uow, again)
        await uow.commit()
        return again

    async def replay_range(
        self, company_id: str, endpoint_id: str, since: datetime, until: datetime, only_failed: bool
    ) -> list[Delivery]:
        """Send again every delivery (not itself a replay) created in
        [since, until]; ``only_failed``: those that gave up only."""
        if until <= since:
            raise ReplayRangeInvalid("`until` must be after `since`")
        if until - since > MAX_REPLAY_RANGE:
            raise ReplayRangeInvalid(f"a range spans at most {MAX_REPLAY_RANGE.days} days")
        endpoint = await self._enabled(company_id, endpoint_id)
        found = await self.store.deliveries_between(
            endpoint_id, clock.iso(since), clock.iso(until), MAX_REPLAY * 4
        )
        chosen = [
            d for d in found if d.replay_of is None and (not only_failed or d.status == "failed")
        ]
        if len(chosen) > MAX_REPLAY or len(found) > MAX_REPLAY * 4:
            raise ReplayRangeInvalid(
                f"more than {MAX_REPLAY} deliveries in the range: replay a shorter one"
            )
        now = clock.now()
        made = [self._again(endpoint, d, now) for d in chosen]
        for start in range(0, len(made), REPLAYS_PER_COMMIT):
            uow = self.uow()
            for delivery in made[start : start + REPLAYS_PER_COMMIT]:
                self.deliveries.schedule(uow, delivery)
            await uow.commit()
        return made

    async def _enabled(self, company_id: str, endpoint_id: str) -> Endpoint:
        endpoint = await self.get(company_id, endpoint_id)
        if not endpoint.enabled:
            raise EndpointDisabled()
        return endpoint

    @staticmethod
    def _again(endpoint: Endpoint, original: Delivery, now: datetime) -> Delivery:
        return new_delivery(
            endpoint,
            original.event_id,
            original.event_type,
            original.body,
            now,
            replay_of=original.id,
        )
