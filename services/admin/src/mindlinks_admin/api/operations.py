"""Running the platform: the fleet, event queues and dead letters, the ledger's
integrity, and the audit trail itself (read only: no route alters it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from mindlinks_admin.api.common import AdminActor, admin_router
from mindlinks_admin.deps import Deps
from mindlinks_admin.domain import Filters
from mindlinks_admin.schemas import (
    AuditRecordOut,
    DeadLettersOut,
    DiscardIn,
    FleetOut,
    PartialOut,
    QueueOut,
    QueuesOut,
    Record,
    ReplayIn,
    ServiceName,
)
from mindlinks_kit.schemas import Cursor, Id, Limit, Page

router = admin_router("admin: operations")
Text = Annotated[str | None, Query(min_length=1, max_length=256)]


@router.get("/fleet")
async def fleet(actor: AdminActor, deps: Deps) -> FleetOut:
    """Every service's live/ready, version, breakers, outbox backlog and queue,
    probed at once: the answer comes within the deadline even when a service
    hangs (it is then ``live: false, error: "timeout"``)."""
    view = await deps.operations.fleet_view()
    return FleetOut.of(view, deps.settings.fleet_deadline_seconds)


@router.get("/events/queues")
async def queues(actor: AdminActor, deps: Deps) -> QueuesOut:
    """Per consuming service: queue depth, messages in flight, dead letters."""
    rows, partial = await deps.operations.queues()
    return QueuesOut(
        items=[QueueOut.of(r) for r in rows],
        partial=[PartialOut(service=m.service, detail=m.detail) for m in partial],
    )


@router.get("/events/dead-letters")
async def dead_letters(
    actor: AdminActor,
    deps: Deps,
    service: Annotated[ServiceName, Query()],
    limit: Limit = 50,
) -> DeadLettersOut:
    """A service's dead letters with their error, without taking them."""
    items = await deps.operations.dead_letters(service, limit)
    return DeadLettersOut(service=service, items=items)


@router.post("/events/dead-letters/replay")
async def replay(body: ReplayIn, actor: AdminActor, deps: Deps) -> Record:
    """Send dead letters back to the service's queue (``messageIds`` or
    ``all: true``). Audited on ``queue:<service>``."""
    return await deps.operations.replay(
        actor, body.service, body.message_ids, body.all, body.reason
    )


@router.post("/events/dead-letters/discard")
async def discard(body: DiscardIn, actor: AdminActor, deps: Deps) -> Record:
    """Drop dead letters for good; each one's body is kept in its audit
    record's ``before`` (``message:<service>:<id>``)."""
    return await deps.operations.discard(actor, body.service, body.message_ids, body.reason)


@router.get("/ledger/verify")
async def verify_ledger(actor: AdminActor, deps: Deps) -> Record:
    """The whole journal verified by the ledger service: the first broken link, if any."""
    return await deps.operations.verify_ledger(actor)


@router.get("/audit")
async def audit(
    actor: AdminActor,
    deps: Deps,
    actor_user_id: Annotated[Id | None, Query(alias="actorUserId")] = None,
    target: Text = None,
    action: Text = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditRecordOut]:
    """The audit trail, newest first, by actor, target and action."""
    filters = Filters(actor_user_id=actor_user_id, target=target, action=action)
    items, next_cursor = await deps.audit.page(filters, limit, cursor)
    return Page[AuditRecordOut](
        items=[AuditRecordOut.of(i) for i in items], next_cursor=next_cursor
    )
