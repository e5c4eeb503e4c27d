"""user.created → profile and default preferences, once; user.updated out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Accounts


async def test_user_created_makes_the_profile_and_default_preferences(
    fleet: Running, accounts: Accounts
) -> None:
    account = await accounts.create(role="contractor", name="Grace Hopper")
    me = await fleet.client("user").get("/v1/users/me", headers=account.headers)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body == {
        "userId": account.user_id,
        "email": account.email,
        "name": "Grace Hopper",
        "role": "contractor",
        "displayName": "Grace Hopper",
        "phone": None,
        "timezone": "UTC",
        "locale": "en",
        "createdAt": body["createdAt"],
        "updatedAt": body["createdAt"],
        "version": 1,
    }
    assert body["createdAt"].endswith("Z")
    preferences = await fleet.client("user").get(
        "/v1/users/me/preferences", headers=account.headers
    )
    assert preferences.status_code == 200
    assert preferences.json()["notifications"] == {
        "email": {
            "productUpdates": True,
            "contractUpdates": True,
            "paymentUpdates": True,
            "marketing": False,
        },
        "inApp": {
            "productUpdates": True,
            "contractUpdates": True,
            "paymentUpdates": True,
            "marketing": False,
        },
    }


async def test_the_profile_is_not_ready_until_the_event_is_processed(
    fleet: Running, accounts: Accounts
) -> None:
    account = await accounts.publish()
    early = await fleet.client("user").get("/v1/users/me", headers=account.headers)
    assert early.status_code == 404
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["code"] == "profile-not-ready"
    assert early.headers["retry-after"] == "1"
    early_preferences = await fleet.client("user").get(
        "/v1/users/me/preferences", headers=account.headers
    )
    assert early_preferences.json()["code"] == "profile-not-ready"

    await fleet.deliver()
    assert (await fleet.client("user").get("/v1/users/me", headers=account.headers)).is_success


async def test_a_redelivered_event_changes_nothing(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    user = fleet.client("user")
    edited = await user.patch("/v1/users/me", json={"displayName": "Ada"}, headers=account.headers)
    assert edited.status_code == 200
    before = (await user.get("/v1/users/me", headers=account.headers)).json()

    assert await accounts.republish(account.event_id) >= 1  # same id: the inbox drops it
    assert (await user.get("/v1/users/me", headers=account.headers)).json() == before

    # A second user.created for the same user (a new event id) changes nothing either.
    await accounts.publish(user_id=account.user_id, name="Someone Else")
    await fleet.deliver()
    assert (await user.get("/v1/users/me", headers=account.headers)).json() == before


async def test_a_profile_change_publishes_user_updated_in_its_transaction(
    fleet: Running, accounts: Accounts
) -> None:
    account = await accounts.create()
    user = fleet.client("user")
    changed = await user.patch(
        "/v1/users/me",
        json={"displayName": "Countess", "timezone": "Europe/London", "locale": "en"},
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.text
    assert await accounts.published("user.updated", account.user_id) == [
        {"userId": account.user_id, "changed": ["displayName", "timezone"]}
    ]

    # A refused change (stale version) publishes nothing; a no-op neither.
    stale = await user.patch(
        "/v1/users/me", json={"phone": "+447700900123", "version": 1}, headers=account.headers
    )
    assert stale.status_code == 409
    same = await user.patch(
        "/v1/users/me", json={"displayName": "Countess"}, headers=account.headers
    )
    assert same.status_code == 200
    assert same.json()["version"] == 2
    assert len(await accounts.published("user.updated", account.user_id)) == 1
