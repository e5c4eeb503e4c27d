"""Notification routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from mindlinks_fleet.internal import notification
from mindlinks_fleet.internal.notification import SendNotification, SendResult
from mindlinks_kit.auth import CurrentUser, Internal
from mindlinks_kit.errors import NotFound
from mindlinks_kit.http import IDEMPOTENCY_HEADER
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_notification.deps import Deps
from mindlinks_notification.domain import AlreadyRecorded, Recipient, SendRequest
from mindlinks_notification.schemas import Mailbox, MailboxEntry, NotificationOut, send_result

public = APIRouter(prefix="/v1/notifications", tags=["notifications"])
internal = APIRouter()
dev = APIRouter(prefix="/v1/notifications/dev", tags=["local only"])
"""Mounted only in local mode (``create_app(dev_routers=...)``)."""


@serve(internal, notification.SEND)
async def send(
    body: SendNotification,
    caller: Internal,
    deps: Deps,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_HEADER, min_length=1, max_length=200)
    ] = None,
) -> SendResult:
    """Send a notification; ``dedupeKey`` (or the ``Idempotency-Key`` header the
    kit's peer client sends on retried POSTs) makes a repeat a no-op."""
    request = SendRequest(
        template=body.template,
        origin=caller.service,
        data=body.data,
        recipient=Recipient(
            email=str(body.recipient.email),
            name=body.recipient.name,
            user_id=body.recipient.user_id,
        ),
        essential=body.essential,
        category=body.category,
        channels=tuple(body.channels),
        dedupe_key=body.dedupe_key or idempotency_key,
    )
    uow = deps.runtime.uow()
    outcome = await deps.notifier.send(request, uow)
    try:
        await uow.commit()
    except AlreadyRecorded:
        return send_result(outcome).model_copy(update={"duplicate": True})
    return send_result(outcome)


@public.get("/me")
async def my_notifications(
    user: CurrentUser,
    deps: Deps,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[NotificationOut]:
    """The caller's in-app notifications, newest first."""
    items, next_cursor = await deps.notifier.page(user.user_id, limit, cursor)
    return Page[NotificationOut](
        items=[NotificationOut.of(n) for n in items], next_cursor=next_cursor
    )


@public.post("/{notification_id}/read", status_code=204)
async def mark_read(
    notification_id: Id,
    user: CurrentUser,
    deps: Deps,
) -> Response:
    """Mark one of the caller's notifications read."""
    await deps.notifier.mark_read(user.user_id, notification_id)
    return Response(status_code=204)


@dev.get("/mailbox")
async def mailbox(
    deps: Deps,
    to: Annotated[str | None, Query(max_length=320)] = None,
    # Not the kit's Limit: a local test run reads a whole mailbox at once.
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Mailbox:
    """Every mail the local mailbox received, newest first (local mode only)."""
    if deps.mailbox is None:
        raise NotFound()
    entries = await deps.mailbox.messages(to, limit)
    return Mailbox(items=[MailboxEntry.model_validate(e) for e in entries])
