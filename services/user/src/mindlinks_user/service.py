"""The user use cases: profiles follow accounts, only their owner (or an admin)
sees them, edits are optimistic-locked and announced as ``user.updated``.

No FastAPI here; routes and the consumer commit the unit of work, never this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from pydantic.alias_generators import to_camel

from mindlinks_fleet.events import UserCreated, UserUpdated
from mindlinks_fleet.internal.user import RECIPIENTS_AT_ONCE
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_user.domain import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    NotificationSettings,
    Preferences,
    Profile,
    ProfileNotReady,
    TooManyRecipients,
    UserNotFound,
    changed_fields,
    check_version,
)


class Store(Protocol):
    """What the rules need from storage (``store.UserStore`` in the service)."""

    async def profile(self, user_id: str) -> Profile | None: ...
    async def preferences(self, user_id: str) -> Preferences | None: ...
    async def profiles_and_preferences(
        self, user_ids: list[str]
    ) -> list[tuple[Profile, Preferences | None]]: ...
    def add_profile(self, uow: UnitOfWork, profile: Profile) -> None: ...
    def add_preferences(self, uow: UnitOfWork, preferences: Preferences) -> None: ...
    def replace_profile(
        self, uow: UnitOfWork, profile: Profile, *, expected_version: int
    ) -> None: ...
    def replace_preferences(
        self, uow: UnitOfWork, preferences: Preferences, *, expected_version: int
    ) -> None: ...


class Users:
    def __init__(self, store: Store, publish: Publish) -> None:
        self.store = store
        self.publish = publish

    async def on_user_created(self, event: UserCreated, uow: UnitOfWork) -> None:
        """Create the profile and default preferences; a second ``user.created``
        for the same user (a re-sent event with a new id) changes nothing."""
        if await self.store.profile(event.user_id) is not None:
            return
        at = now_iso()
        self.store.add_profile(
            uow,
            Profile(
                user_id=event.user_id,
                email=event.email,
                name=event.name,
                role=event.role,
                display_name=event.name,
                phone=None,
                timezone=DEFAULT_TIMEZONE,
                locale=DEFAULT_LOCALE,
                created_at=at,
                updated_at=at,
            ),
        )
        self.store.add_preferences(
            uow, Preferences(user_id=event.user_id, locale=None, timezone=None, updated_at=at)
        )

    async def own_profile(self, user_id: str) -> Profile:
        profile = await self.store.profile(user_id)
        if profile is None:
            raise ProfileNotReady()
        return profile

    async def visible_profile(self, caller_id: str, caller_role: str, user_id: str) -> Profile:
        """Self or an admin; anyone else learns nothing, not even that it exists."""
        if user_id == caller_id:
            return await self.own_profile(user_id)
        if caller_role != "admin":
            raise UserNotFound()
        return await self.profile(user_id)

    async def profile(self, user_id: str) -> Profile:
        profile = await self.store.profile(user_id)
        if profile is None:
            raise UserNotFound()
        return profile

    async def update_profile(
        self,
        user_id: str,
        changes: Mapping[str, Any],
        expected_version: int | None,
        uow: UnitOfWork,
    ) -> Profile:
        current = await self.own_profile(user_id)
        check_version(current.version, expected_version)
        changed = changed_fields(current, changes)
        if not changed:
            return current
        updated = replace(current, **changed, updated_at=now_iso(), version=current.version + 1)
        self.store.replace_profile(uow, updated, expected_version=current.version)
        self.publish(
            uow,
            "user.updated",
            UserUpdated(user_id=user_id, changed=sorted(to_camel(name) for name in changed)),
        )
        return updated

    async def own_preferences(self, user_id: str) -> Preferences:
        preferences = await self.store.preferences(user_id)
        if preferences is None:
            raise ProfileNotReady()
        return preferences

    async def preferences(self, user_id: str) -> Preferences:
        preferences = await self.store.preferences(user_id)
        if preferences is None:
            raise UserNotFound()
        return preferences

    async def recipients(self, user_ids: list[str]) -> list[tuple[Profile, Preferences | None]]:
        """Profile and preferences of each known user among ``user_ids``."""
        if len(set(user_ids)) > RECIPIENTS_AT_ONCE:
            raise TooManyRecipients(f"At most {RECIPIENTS_AT_ONCE} users at once")
        return await self.store.profiles_and_preferences(user_ids)

    async def replace_preferences(
        self,
        user_id: str,
        *,
        locale: str | None,
        timezone: str | None,
        notifications: NotificationSettings,
        expected_version: int | None,
        uow: UnitOfWork,
    ) -> Preferences:
        current = await self.own_preferences(user_id)
        check_version(current.version, expected_version)
        updated = Preferences(
            user_id=user_id,
            locale=locale,
            timezone=timezone,
            notifications=notifications,
            updated_at=now_iso(),
            version=current.version + 1,
        )
        if (updated.locale, updated.timezone, updated.notifications) == (
            current.locale,
            current.timezone,
            current.notifications,
        ):
            return current
        self.store.replace_preferences(uow, updated, expected_version=current.version)
        # Notification keeps recipients' opt-ins for a while: this tells it to read again.
        self.publish(uow, "user.updated", UserUpdated(user_id=user_id, changed=["preferences"]))
        return updated
