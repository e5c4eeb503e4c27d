"""User routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import CurrentUser, service_caller
from mindlinks_kit.schemas import Id
from mindlinks_user.deps import Deps
from mindlinks_user.schemas import PreferencesIn, PreferencesOut, ProfileOut, ProfilePatch

public = APIRouter(prefix="/v1/users", tags=["users"])
internal = APIRouter(
    prefix="/internal/users", tags=["internal"], dependencies=[Depends(service_caller)]
)


@public.get("/me")
async def get_me(user: CurrentUser, deps: Deps) -> ProfileOut:
    """The caller's profile (404 ``profile-not-ready`` until ``user.created`` is processed)."""
    return ProfileOut.of(await deps.users.own_profile(user.user_id))


@public.patch("/me")
async def patch_me(
    body: ProfilePatch, user: CurrentUser, deps: Deps, uow: Transaction
) -> ProfileOut:
    """Change the caller's profile (optimistic locking with ``version``);
    publishes ``user.updated``."""
    profile = await deps.users.update_profile(user.user_id, body.changes(), body.version, uow)
    return ProfileOut.of(profile)


@public.get("/me/preferences")
async def get_my_preferences(user: CurrentUser, deps: Deps) -> PreferencesOut:
    """The caller's locale, time zone and notification opt-ins."""
    return PreferencesOut.of(await deps.users.own_preferences(user.user_id))


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
    return PreferencesOut.of(preferences)


@public.get("/{user_id}")
async def get_user(user_id: Id, user: CurrentUser, deps: Deps) -> ProfileOut:
    """The caller's own profile, or anyone's for an admin; otherwise 404."""
    return ProfileOut.of(await deps.users.visible_profile(user.user_id, user.role, user_id))


@internal.get("/{user_id}")
async def internal_profile(user_id: Id, deps: Deps) -> ProfileOut:
    return ProfileOut.of(await deps.users.profile(user_id))


@internal.get("/{user_id}/preferences")
async def internal_preferences(user_id: Id, deps: Deps) -> PreferencesOut:
    """Peers (notification) read this to respect opt-outs."""
    return PreferencesOut.of(await deps.users.preferences(user_id))
