"""The user service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from mindlinks_fleet.internal.user import ChannelPreferences, PreferencesOut, ProfileOut
from mindlinks_kit.schemas import ONE_LINE, ApiModel
from mindlinks_user.domain import Preferences, Profile, is_locale, is_phone, is_timezone


def _timezone(value: str) -> str:
    if not is_timezone(value):
        raise ValueError("not an IANA time zone (e.g. Europe/Paris)")
    return value


def _locale(value: str) -> str:
    if not is_locale(value):
        raise ValueError("not a language tag (e.g. en, en-GB)")
    return value


def _phone(value: str) -> str:
    if not is_phone(value):
        raise ValueError("not an E.164 phone number (e.g. +33612345678)")
    return value


Timezone = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"),
    AfterValidator(_timezone),
]
Locale = Annotated[
    str,
    StringConstraints(
        max_length=35, pattern=r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?$"
    ),
    AfterValidator(_locale),
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=16, pattern=r"^\+[1-9][0-9]{6,14}$"),
    AfterValidator(_phone),
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
]


_NOT_NULL = ("name", "timezone", "locale")


class ProfilePatch(ApiModel):
    """Only the fields present change; ``displayName``/``phone`` may be null to
    clear them. ``version``, when given, must be the version last read."""

    name: Name | SkipJsonSchema[None] = None
    display_name: DisplayName | None = None
    phone: Phone | None = None
    timezone: Timezone | SkipJsonSchema[None] = None
    locale: Locale | SkipJsonSchema[None] = None
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _required_fields_are_not_null(self) -> ProfilePatch:
        nulls = [
            name
            for name in _NOT_NULL
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set - {"version"}}


class PreferencesIn(ApiModel):
    """A full replacement: every channel and category must be given."""

    locale: Locale | None = None
    timezone: Timezone | None = None
    notifications: ChannelPreferences
    version: int | None = Field(default=None, ge=1)


# internal: the wire models are declared in mindlinks_fleet.internal.user ----


def profile_out(profile: Profile) -> ProfileOut:
    return ProfileOut.model_validate(profile, from_attributes=True)


def preferences_out(preferences: Preferences) -> PreferencesOut:
    return PreferencesOut(
        user_id=preferences.user_id,
        locale=preferences.locale,
        timezone=preferences.timezone,
        notifications=ChannelPreferences.model_validate(preferences.notifications),
        updated_at=preferences.updated_at,
        version=preferences.version,
    )
