"""The user rules without I/O."""

from __future__ import annotations

import pytest

from mindlinks_user.domain import (
    Profile,
    changed_fields,
    default_notifications,
    is_locale,
    is_phone,
    is_timezone,
)

PROFILE = Profile(
    user_id="u1",
    email="a@example.com",
    name="Ada",
    role="client",
    display_name="Ada",
    phone=None,
    timezone="UTC",
    locale="en",
    created_at="2026-01-01T00:00:00.000Z",
    updated_at="2026-01-01T00:00:00.000Z",
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("UTC", True),
        ("Europe/Paris", True),
        ("America/Argentina/Buenos_Aires", True),
        ("europe/paris", False),
        ("CEST", False),
        ("", False),
        ("/etc/passwd", False),
    ],
)
def test_timezones_are_iana_names(value: str, valid: bool) -> None:
    assert is_timezone(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("en", True),
        ("en-GB", True),
        ("zh-Hant-TW", True),
        ("es-419", True),
        ("EN", False),
        ("en_GB", False),
        ("english", False),
        ("", False),
    ],
)
def test_locales_are_language_tags(value: str, valid: bool) -> None:
    assert is_locale(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("+33612345678", True),
        ("+14155552671", True),
        ("0612345678", False),
        ("+0612345678", False),
        ("+33 6 12 34 56 78", False),
    ],
)
def test_phones_are_e164(value: str, valid: bool) -> None:
    assert is_phone(value) is valid


def test_only_real_changes_count() -> None:
    assert changed_fields(PROFILE, {"display_name": "Ada", "timezone": "Europe/Paris"}) == {
        "timezone": "Europe/Paris"
    }
    assert changed_fields(PROFILE, {"phone": None}) == {}
    with pytest.raises(ValueError, match="not editable"):
        changed_fields(PROFILE, {"email": "b@example.com"})


def test_marketing_is_opt_in_everything_else_opt_out() -> None:
    defaults = default_notifications()
    assert set(defaults) == {"email", "inApp"}
    for categories in defaults.values():
        assert categories == {
            "productUpdates": True,
            "contractUpdates": True,
            "paymentUpdates": True,
            "marketing": False,
        }
