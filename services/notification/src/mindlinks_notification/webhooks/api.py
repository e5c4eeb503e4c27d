"""Webhook routes, for members whose company role allows ``webhooks.manage``
(owners and admins): thin — parse, authorize, call the use case, respond."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting
from mindlinks_notification.deps import Deps, NotificationDeps
from mindlinks_notification.webhooks.endpoints import Changes, Endpoints
from mindlinks_notification.webhooks.schemas import (
    CreateEndpoint,
    DeliveryOut,
    EndpointOut,
    EndpointWithSecret,
    Replayed,
    ReplayRange,
    UpdateEndpoint,
)

router = APIRouter(prefix="/v1/notifications/webhooks", tags=["webhooks"])
Admin = Annotated[Acting, Depends(acting("webhooks.manage"))]


def _endpoints(deps: NotificationDeps) -> Endpoints:
    return deps.webhooks


def _company(admin: Acting) -> str:
    assert admin.tenant_id is not None  # acting() resolved a membership
    return admin.tenant_id


@router.post("", status_code=201)
async def create_endpoint(body: CreateEndpoint, admin: Admin, deps: Deps) -> EndpointWithSecret:
    """Subscribe an endpoint; the answer holds its signing secret, shown only now."""
    made = await _endpoints(deps).create(
        _company(admin),
        admin.user_id,
        body.url,
        tuple(dict.fromkeys(body.event_types)),
        body.description,
    )
    return EndpointWithSecret(**EndpointOut.of(made.endpoint).model_dump(), secret=made.secret)


@router.get("")
async def list_endpoints(
    admin: Admin, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[EndpointOut]:
    """The company's endpoints, newest first (secrets are never shown again)."""
    items, next_cursor = await _endpoints(deps).page(_company(admin), limit, cursor)
    return Page[EndpointOut](items=[EndpointOut.of(e) for e in items], next_cursor=next_cursor)


@router.get("/{endpoint_id}")
async def get_endpoint(endpoint_id: Id, admin: Admin, deps: Deps) -> EndpointOut:
    return EndpointOut.of(await _endpoints(deps).get(_company(admin), endpoint_id))


@router.patch("/{endpoint_id}")
async def update_endpoint(
    endpoint_id: Id, body: UpdateEndpoint, admin: Admin, deps: Deps
) -> EndpointOut:
    """Change the URL, the event types, the description, or enable/disable it."""
    changes = Changes(
        url=body.url,
        event_types=tuple(dict.fromkeys(body.event_types)) if body.event_types else None,
        enabled=body.enabled,
        description=body.description,
    )
    return EndpointOut.of(await _endpoints(deps).update(_company(admin), endpoint_id, changes))


@router.delete("/{endpoint_id}", status_code=204)
async def delete_endpoint(endpoint_id: Id, admin: Admin, deps: Deps) -> Response:
    await _endpoints(deps).delete(_company(admin), endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret")
async def rotate_secret(endpoint_id: Id, admin: Admin, deps: Deps) -> EndpointWithSecret:
    """A new secret, shown only now; the previous one keeps signing for 24 hours."""
    made = await _endpoints(deps).rotate(_company(admin), endpoint_id)
    return EndpointWithSecret(**EndpointOut.of(made.endpoint).model_dump(), secret=made.secret)


@router.get("/{endpoint_id}/deliveries")
async def deliveries(
    endpoint_id: Id, admin: Admin, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[DeliveryOut]:
    """The delivery log, newest first, with each attempt."""
    items, next_cursor = await _endpoints(deps).delivery_page(
        _company(admin), endpoint_id, limit, cursor
    )
    return Page[DeliveryOut](items=[DeliveryOut.of(d) for d in items], next_cursor=next_cursor)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay", status_code=202)
async def replay_delivery(
    endpoint_id: Id, delivery_id: Id, admin: Admin, deps: Deps
) -> DeliveryOut:
    """Send one delivery again, as a new delivery with the same body."""
    return DeliveryOut.of(await _endpoints(deps).replay(_company(admin), endpoint_id, delivery_id))


@router.post("/{endpoint_id}/replay", status_code=202)
async def replay_range(endpoint_id: Id, body: ReplayRange, admin: Admin, deps: Deps) -> Replayed:
    """Send again the deliveries created in [since, until] (not replays themselves)."""
    made = await _endpoints(deps).replay_range(
        _company(admin), endpoint_id, body.since, body.until, body.only_failed
    )
    return Replayed(replayed=len(made), items=[DeliveryOut.of(d) for d in made])
