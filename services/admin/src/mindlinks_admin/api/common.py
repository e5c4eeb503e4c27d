"""What every admin route shares: the admin-only guard, the actor, a peer's page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from mindlinks_admin.domain import Actor
from mindlinks_kit.auth import Principal, roles
from mindlinks_kit.schemas import Page

admin_only = roles("admin")
"""One callable for the routers' guard and the routes' ``Admin``: FastAPI runs it once."""


async def _actor(principal: Annotated[Principal, Depends(admin_only)]) -> Actor:
    return Actor(user_id=principal.user_id)


def admin_router(tag: str) -> APIRouter:
    return APIRouter(prefix="/v1/admin", tags=[tag], dependencies=[Depends(admin_only)])


AdminActor = Annotated[Actor, Depends(_actor)]


def page_of(found: tuple[list[dict[str, Any]], str | None]) -> Page[dict[str, Any]]:
    """A peer's page as the admin answers it (the peer's cursor passes through)."""
    items, next_cursor = found
    return Page[dict[str, Any]](items=items, next_cursor=next_cursor)
