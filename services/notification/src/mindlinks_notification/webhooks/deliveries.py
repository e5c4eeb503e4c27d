"""Deliveries: an event becomes one delivery per subscribed endpoint of its
company, and each attempt is one firing of the ``webhook.attempt`` timer.

Exactly once per attempt: the attempt's number is claimed in Redis before the
POST (a second delivery of the same firing finds the claim and is retried by
the queue later, by when the first has committed and the firing is stale).
The claim outlives an attempt (its deadline plus 10 s) but not the queue's
retries of a firing (2 + 4 + 8 + 16 s before the dead-letter queue), so the
firing of a worker that died mid-attempt is sent by a retry, not lost;
the attempt's record and the next attempt's timer commit with the firing's
claim (``mindlinks_kit.timers``). The failing streak is written beside the
transaction with commutative updates, so a burst of deliveries to one endpoint
never conflicts on the endpoint's item.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import httpx
import structlog
from pydantic import BaseModel

from mindlinks_kit import clock
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.observability import Metrics
from mindlinks_kit.timers import Fired, Timers
from mindlinks_notification.webhooks.catalog import BY_SOURCE, PublicType
from mindlinks_notification.webhooks.domain import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Attempt,
    AttemptInFlight,
    Delivery,
    Endpoint,
    after_attempt,
    delivery_id,
    disabled,
    must_disable,
    next_attempt,
    purge_at,
    signature_header,
)
from mindlinks_notification.webhooks.secrets import SecretBox
from mindlinks_notification.webhooks.store import WebhookStore
from mindlinks_notification.webhooks.transport import post

log = structlog.get_logger("mindlinks.webhooks")
ATTEMPT = "webhook.attempt"


class Claims(Protocol):
    async def claim(self, key: str) -> bool: ...
    async def release(self, key: str) -> None: ...


class DisabledNotice(Protocol):
    async def tell(self, endpoint: Endpoint, uow: UnitOfWork) -> None: ...


def public_body(
    kind: PublicType, event_id: str, occurred_at: str, company_id: str, payload: BaseModel
) -> str:
    """The delivered JSON: ``{id, type, createdAt, companyId, data}``."""
    envelope = {
        "id": event_id,
        "type": kind.name,
        "createdAt": occurred_at,
        "companyId": company_id,
        "data": kind.data(payload),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def new_delivery(
    endpoint: Endpoint,
    event_id: str,
    event_type: str,
    body: str,
    now: datetime,
    *,
    replay_of: str | None = None,
) -> Delivery:
    return Delivery(
        id=uuid.uuid4().hex if replay_of else delivery_id(event_id, endpoint.id),
        endpoint_id=endpoint.id,
        company_id=endpoint.company_id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        created_at=clock.iso(now),
        status="pending",
        purge_at=purge_at(now),
        next_attempt_at=clock.iso(now),
        replay_of=replay_of,
    )


class Deliveries:
    def __init__(
        self,
        *,
        store: WebhookStore,
        timers: Timers,
        box: SecretBox,
        client: httpx.AsyncClient,
        claims: Claims,
        notice: DisabledNotice,
        metrics: Metrics,
        deadline_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.timers = timers
        self.box = box
        self.client = client
        self.claims = claims
        self.notice = notice
        self.metrics = metrics
        self.deadline_seconds = deadline_seconds

    def schedule(self, uow: UnitOfWork, delivery: Delivery) -> None:
        """Stage a new delivery and its first attempt, due now."""
        self.store.create_delivery(uow, delivery)
        self.timers.set(uow, ATTEMPT, delivery.id, clock.parse(delivery.created_at))

    async def on_event(self, event: Delivered[Any], uow: UnitOfWork) -> None:
        """A fleet event → a delivery to each subscribed endpoint of its company."""
        kind = BY_SOURCE[event.name]
        company_id = kind.company(event.payload)
        if company_id is None:
            log.warning("webhooks.no_company", event_name=event.name, event_id=event.id)
            self.metrics.count("WebhooksUnattributed", event=event.name)
            return
        endpoints = [e for e in await self.store.of_company(company_id) if e.wants(kind.name)]
        if not endpoints:
            return
        body = public_body(kind, event.id, event.detail.occurred_at, company_id, event.payload)
        now = clock.now()
        for endpoint in endpoints:
            self.schedule(uow, new_delivery(endpoint, event.id, kind.name, body, now))
        self.metrics.count("WebhooksScheduled", len(endpoints), event=kind.name)

    async def attempt(self, fired: Fired[Any], uow: UnitOfWork) -> None:
        """The timer's handler: one attempt of one delivery."""
        delivery = await self.store.delivery(fired.key)
        if delivery is None or delivery.status != "pending":
            return
        endpoint = await self.store.endpoint(delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            # Deleted or disabled meanwhile: nothing more is sent.
            self.store.replace_delivery(
                uow, replace(delivery, status="cancelled", next_attempt_at=None)
            )
            return
        number = len(delivery.attempts) + 1
        if not await self.claims.claim(f"{delivery.id}:{number}"):
            raise AttemptInFlight(delivery.id)
        now = clock.now()
        sent = await post(
            self.client,
            endpoint.url,
            delivery.body.encode(),
            await self._headers(endpoint, delivery, now),
            self.deadline_seconds,
        )
        attempt = Attempt(
            no=number,
            at=clock.iso(now),
            outcome="delivered" if sent.delivered else ("refused" if sent.refused else "failed"),
            latency_ms=sent.latency_ms,
            status_code=sent.status_code,
            error=sent.error,
        )
        retry_at = None if sent.delivered else next_attempt(delivery, number, clock.now())
        updated = after_attempt(delivery, attempt, retry_at)
        self.store.replace_delivery(uow, updated)
        if retry_at is not None:
            self.timers.set(uow, ATTEMPT, delivery.id, retry_at)
        self.metrics.count("WebhookAttempts", outcome=attempt.outcome)
        log.info(
            "webhooks.attempt",
            delivery_id=delivery.id,
            endpoint_id=endpoint.id,
            attempt=number,
            outcome=attempt.outcome,
            status_code=sent.status_code,
            latency_ms=sent.latency_ms,
        )
        await self.store.note_outcome(endpoint.id, sent.delivered, attempt.at)
        if updated.status == "failed":
            await self._maybe_disable(endpoint.id, updated, uow)

    async def _headers(
        self, endpoint: Endpoint, delivery: Delivery, now: datetime
    ) -> dict[str, str]:
        secrets = [await self.box.open(endpoint.id, endpoint.secret.ciphertext)]
        previous = endpoint.previous_valid(now)
        if previous is not None:
            secrets.append(await self.box.open(endpoint.id, previous.ciphertext))
        timestamp = int(now.timestamp())
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secrets, timestamp, delivery.body.encode()),
            DELIVERY_HEADER: delivery.id,
            EVENT_HEADER: delivery.event_type,
        }

    async def _maybe_disable(self, endpoint_id: str, gave_up: Delivery, uow: UnitOfWork) -> None:
        endpoint = await self.store.endpoint(endpoint_id)  # with the streak just written
        if endpoint is None or not must_disable(endpoint, gave_up):
            return
        now = clock.now_iso()
        if not await self.store.disable_failing(endpoint, now):
            return  # another delivery (or an admin) got there first
        log.warning(
            "webhooks.endpoint_disabled", endpoint_id=endpoint.id, company_id=endpoint.company_id
        )
        self.metrics.count("WebhookEndpointsDisabled")
        await self.notice.tell(disabled(endpoint, now), uow)
