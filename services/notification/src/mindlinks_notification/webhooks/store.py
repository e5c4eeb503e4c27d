"""The ``webhook-endpoints`` table (listed per company through ``by-company``)
and the ``webhook-deliveries`` table (the delivery log, per endpoint newest
first through ``by-endpoint``; items expire with ``purgeAt``). Nothing else
touches them."""

from __future__ import annotations

import contextlib

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record
from mindlinks_notification.webhooks.domain import Delivery, Endpoint

ENDPOINTS = Record(Endpoint)
DELIVERIES = Record(Delivery)
RANGE_PAGE = 100


class AlreadyDelivering(Exception):
    """The delivery of this event to this endpoint exists already (a redelivered event)."""


class WebhookStore:
    def __init__(self, endpoints: Table, deliveries: Table) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries

    async def endpoint(self, endpoint_id: str) -> Endpoint | None:
        item = await self.endpoints.get({"id": endpoint_id})
        return ENDPOINTS.read(item) if item else None

    async def company_page(
        self, company_id: str, limit: int, start: Item | None
    ) -> tuple[list[Endpoint], Item | None]:
        items, last = await query_page(
            self.endpoints, "by-company", {"companyId": company_id}, limit, start, forward=False
        )
        return [ENDPOINTS.read(i) for i in items], last

    async def of_company(self, company_id: str) -> list[Endpoint]:
        """Every endpoint of a company (a handful: an event's fan-out)."""
        found: list[Endpoint] = []
        start: Item | None = None
        while True:
            items, start = await self.endpoints.query(
                "companyId = :c", values=values(c=company_id), index="by-company", start=start
            )
            found.extend(ENDPOINTS.read(i) for i in items)
            if start is None:
                return found

    def create_endpoint(self, uow: UnitOfWork, endpoint: Endpoint) -> None:
        uow.create(self.endpoints, ENDPOINTS.item(endpoint), key="id")

    def replace_endpoint(self, uow: UnitOfWork, endpoint: Endpoint) -> None:
        uow.replace(self.endpoints, ENDPOINTS.item(endpoint), expected_version=endpoint.version)

    def delete_endpoint(self, uow: UnitOfWork, endpoint: Endpoint) -> None:
        uow.delete(self.endpoints, {"id": endpoint.id})

    async def note_outcome(self, endpoint_id: str, delivered: bool, at: str) -> None:
        """The failing streak, outside any transaction (commutative writes: a
        burst of deliveries to one endpoint never conflicts on it)."""
        with contextlib.suppress(ConditionFailed):  # deleted meanwhile
            if delivered:
                await self.endpoints.update(
                    {"id": endpoint_id}, "REMOVE failingSince", condition="attribute_exists(id)"
                )
            else:
                await self.endpoints.update(
                    {"id": endpoint_id},
                    "SET failingSince = if_not_exists(failingSince, :at)",
                    condition="attribute_exists(id)",
                    values=values(at=at),
                )

    async def disable_failing(self, endpoint: Endpoint, at: str) -> bool:
        """Disable an endpoint still enabled and still failing; False when
        someone (another delivery, an admin) changed it first."""
        try:
            await self.endpoints.update(
                {"id": endpoint.id},
                "SET enabled = :off, disabledAt = :at, disabledReason = :why, updatedAt = :at,"
                " version = version + :one",
                condition="enabled = :on AND attribute_exists(failingSince)",
                values=values(off=False, on=True, at=at, why="failing", one=1),
            )
        except ConditionFailed:
            return False
        return True

    async def delivery(self, delivery_id: str) -> Delivery | None:
        item = await self.deliveries.get({"id": delivery_id})
        return DELIVERIES.read(item) if item else None

    def create_delivery(self, uow: UnitOfWork, delivery: Delivery) -> None:
        uow.create(
            self.deliveries, DELIVERIES.item(delivery), key="id", on_conflict=AlreadyDelivering()
        )

    def replace_delivery(self, uow: UnitOfWork, delivery: Delivery) -> None:
        uow.replace(self.deliveries, DELIVERIES.item(delivery), expected_version=delivery.version)

    async def delivery_page(
        self, endpoint_id: str, limit: int, start: Item | None
    ) -> tuple[list[Delivery], Item | None]:
        items, last = await query_page(
            self.deliveries, "by-endpoint", {"endpointId": endpoint_id}, limit, start, forward=False
        )
        return [DELIVERIES.read(i) for i in items], last

    async def deliveries_between(
        self, endpoint_id: str, since: str, until: str, at_most: int
    ) -> list[Delivery]:
        """The endpoint's deliveries created in [since, until], oldest first,
        at most ``at_most`` + 1 (so the caller can tell there were more)."""
        found: list[Delivery] = []
        start: Item | None = None
        while len(found) <= at_most:
            items, start = await self.deliveries.query(
                "endpointId = :e AND createdAt BETWEEN :since AND :until",
                values=values(e=endpoint_id, since=since, until=until),
                index="by-endpoint",
                limit=RANGE_PAGE,
                start=start,
            )
            found.extend(DELIVERIES.read(i) for i in items)
            if start is None:
                break
        return found[: at_most + 1]
