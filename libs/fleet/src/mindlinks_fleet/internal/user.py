"""The user service's internal API: a user's profile and notification
preferences, for the services that address users."""

from __future__ import annotations

from pydantic import StrictBool

from mindlinks_kit.declaration import Call, Lookup
from mindlinks_kit.schemas import ApiModel


class ProfileOut(ApiModel):
    user_id: str
    email: str
    name: str
    role: str
    display_name: str | None
    phone: str | None
    timezone: str
    locale: str
    created_at: str
    updated_at: str
    version: int


class CategoryPreferences(ApiModel):
    product_updates: StrictBool
    contract_updates: StrictBool
    payment_updates: StrictBool
    marketing: StrictBool


class ChannelPreferences(ApiModel):
    email: CategoryPreferences
    in_app: CategoryPreferences


class PreferencesOut(ApiModel):
    user_id: str
    locale: str | None
    timezone: str | None
    notifications: ChannelPreferences
    updated_at: str
    version: int


class RecipientOut(ApiModel):
    profile: ProfileOut
    preferences: PreferencesOut | None


class RecipientsOut(ApiModel):
    items: list[RecipientOut]
    """The users asked for that exist (an unknown id is left out)."""


RECIPIENTS_AT_ONCE = 25
"""User ids one ``RECIPIENTS`` call takes (``userId`` repeated)."""

PROFILE = Lookup(
    "user",
    "GET",
    "/internal/users/{user_id}",
    ProfileOut,
    callers=("admin", "notification"),
    summary="A user's profile (404 until user.created is processed).",
)
PREFERENCES = Lookup(
    "user",
    "GET",
    "/internal/users/{user_id}/preferences",
    PreferencesOut,
    callers=("notification",),
    summary="A user's locale, time zone and notification opt-ins.",
)

RECIPIENTS = Call(
    "user",
    "GET",
    "/internal/recipients",
    RecipientsOut,
    callers=("notification",),
    summary=(
        "Profiles and notification preferences of up to 25 users (`userId` repeated), "
        "in one read: whom one event notifies."
    ),
)

ROUTES = (PROFILE, PREFERENCES, RECIPIENTS)
