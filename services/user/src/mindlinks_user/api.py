"""User routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mindlinks_fleet.internal import user as user_api
from mindlinks_fleet.internal.user import (
    PreferencesOut,
    ProfileOut,
    RecipientOut,
    RecipientsOut,
)
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import CurrentUser
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Id
from mindlinks_user.deps import Deps
from mindlinks_user.schemas import PreferencesIn, ProfilePatch, preferences_out, profile_out

public = APIRouter(prefix="/v1/users", tags=["users"])
internal = APIRouter()


@public.get("/me")
async def get_me(user: CurrentUser, deps: Deps) -> ProfileOut:
    """The caller's profile (404 ``profile-not-ready`` until ``user.created`` is processed)."""
    return profile_out(await deps.users.own_profile(user.user_id))


@public.patch("/me")
async def patch_me(
    body: ProfilePatch, user: CurrentUser, deps: Deps, uow: Transaction
) -> ProfileOut:
    """Change the caller's profile (optimistic locking with ``version``);
    publishes ``user.updated``."""
    profile = await deps.users.update_profile(user.user_id, body.changes(), body.version, uow)
    return profile_out(profile)


@public.get("/me/preferences")
async def get_my_preferences(user: CurrentUser, deps: Deps) -> PreferencesOut:
    """The caller's locale, time zone and notification opt-ins."""
    return preferences_out(await deps.users.own_preferences(user.user_id))


@public.put("/me/preferences")
async def put_my_preferences(
    body: PreferencesIn, user: CurrentUser, deps: Deps, uow: Transaction
) -> PreferencesOut:
    """Replace the caller's preferences."""
    preferences = await deps.users.replace_preferences(
        user.user_id,
        locale=body.locale,
        timezone=body.timezone,
        notifications=body.notifications.model_dump(by_alias=True),
        expected_version=body.version,
        uow=uow,
    )
    return preferences_out(preferences)


@public.get("/{user_id}")
async def get_user(user_id: Id, user: CurrentUser, deps: Deps) -> ProfileOut:
    """The caller's own profile, or anyone's for an admin; otherwise 404."""
    return profile_out(await deps.users.visible_profile(user.user_id, user.role, user_id))


@serve(internal, user_api.PROFILE)
async def internal_profile(user_id: Id, deps: Deps) -> ProfileOut:
    return profile_out(await deps.users.profile(user_id))


@serve(internal, user_api.PREFERENCES)
async def internal_preferences(user_id: Id, deps: Deps) -> PreferencesOut:
    """Peers (notification) read this to respect opt-outs."""
    return preferences_out(await deps.users.preferences(user_id))


@serve(internal, user_api.RECIPIENTS)
async def internal_recipients(
    deps: Deps, user_ids: Annotated[list[Id], Query(alias="userId")]
) -> RecipientsOut:
    """Whom an event notifies, in one read (notification)."""
    found = await deps.users.recipients(user_ids)
    return RecipientsOut(
        items=[
            RecipientOut(
                profile=profile_out(profile),
                preferences=preferences_out(preferences) if preferences else None,
            )
            for profile, preferences in found
        ]
    )
