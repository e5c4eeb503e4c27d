"""The user routes: happy paths, who may call them, and what they refuse."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import NOT_A_JWT, needs_a_user_token, problem

if TYPE_CHECKING:
    from conftest import Accounts

PREFERENCES: dict[str, Any] = {
    "locale": "fr-FR",
    "timezone": "Europe/Paris",
    "notifications": {
        "email": {
            "productUpdates": False,
            "contractUpdates": True,
            "paymentUpdates": True,
            "marketing": True,
        },
        "inApp": {
            "productUpdates": True,
            "contractUpdates": False,
            "paymentUpdates": True,
            "marketing": False,
        },
    },
}


async def test_patch_me_changes_only_what_is_given(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    user = fleet.client("user")
    response = await user.patch(
        "/v1/users/me",
        json={
            "displayName": "  Ada L.  ",
            "phone": "+33612345678",
            "timezone": "America/New_York",
            "locale": "en-GB",
            "name": "Ada King",
            "version": 1,
        },
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["displayName"],
        body["phone"],
        body["timezone"],
        body["locale"],
        body["name"],
        body["version"],
    ) == ("Ada L.", "+33612345678", "America/New_York", "en-GB", "Ada King", 2)
    assert body["updatedAt"] > body["createdAt"]
    assert (await user.get("/v1/users/me", headers=account.headers)).json() == body

    cleared = await user.patch("/v1/users/me", json={"phone": None}, headers=account.headers)
    assert cleared.json()["phone"] is None
    assert cleared.json()["timezone"] == "America/New_York"
    assert cleared.json()["version"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"timezone": None},
        {"locale": "english"},
        {"phone": "0612345678"},
        {"displayName": "   "},
        {"name": ""},
        {"email": "new@example.com"},
        {"role": "admin"},
        {"version": 0},
    ],
)
async def test_patch_me_refuses_bad_input(
    fleet: Running, accounts: Accounts, body: dict[str, Any]
) -> None:
    account = await accounts.create()
    response = await fleet.client("user").patch("/v1/users/me", json=body, headers=account.headers)
    problem(response, 422, "invalid-input")


async def test_patch_me_with_a_stale_version_conflicts(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    user = fleet.client("user")
    assert (
        await user.patch(
            "/v1/users/me", json={"locale": "de", "version": 1}, headers=account.headers
        )
    ).status_code == 200
    stale = await user.patch(
        "/v1/users/me", json={"locale": "it", "version": 1}, headers=account.headers
    )
    problem(stale, 409, "stale-version")
    assert (await user.get("/v1/users/me", headers=account.headers)).json()["locale"] == "de"


async def test_preferences_are_replaced_whole(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    user = fleet.client("user")
    put = await user.put("/v1/users/me/preferences", json=PREFERENCES, headers=account.headers)
    assert put.status_code == 200, put.text
    assert put.json() == {
        **PREFERENCES,
        "userId": account.user_id,
        "updatedAt": put.json()["updatedAt"],
        "version": 2,
    }
    got = await user.get("/v1/users/me/preferences", headers=account.headers)
    assert got.json() == put.json()

    # Full replace: omitted optional fields go back to "follow the profile".
    again = await user.put(
        "/v1/users/me/preferences",
        json={"notifications": PREFERENCES["notifications"]},
        headers=account.headers,
    )
    assert (again.json()["locale"], again.json()["timezone"], again.json()["version"]) == (
        None,
        None,
        3,
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"notifications": {"email": PREFERENCES["notifications"]["email"]}},
        {
            "notifications": {
                **PREFERENCES["notifications"],
                "email": {"productUpdates": True, "contractUpdates": True, "paymentUpdates": True},
            }
        },
        {
            "notifications": {
                **PREFERENCES["notifications"],
                "email": {**PREFERENCES["notifications"]["email"], "marketing": "yes"},
            }
        },
        {"notifications": {**PREFERENCES["notifications"], "sms": {}}},
        {**PREFERENCES, "timezone": "Nowhere/City"},
        {**PREFERENCES, "locale": "!!"},
    ],
)
async def test_preferences_refuse_bad_input(
    fleet: Running, accounts: Accounts, body: dict[str, Any]
) -> None:
    account = await accounts.create()
    response = await fleet.client("user").put(
        "/v1/users/me/preferences", json=body, headers=account.headers
    )
    problem(response, 422, "invalid-input")


async def test_a_user_is_visible_to_itself_and_admins_only(
    fleet: Running, accounts: Accounts
) -> None:
    owner = await accounts.create(role="contractor")
    other = await accounts.create(role="client")
    user = fleet.client("user")
    own = await user.get(f"/v1/users/{owner.user_id}", headers=owner.headers)
    assert own.status_code == 200
    assert own.json()["userId"] == owner.user_id

    foreign = await user.get(f"/v1/users/{owner.user_id}", headers=other.headers)
    problem(foreign, 404, "not-found")
    unknown = await user.get(f"/v1/users/{uuid.uuid4().hex}", headers=other.headers)
    assert unknown.json() == {**foreign.json(), "instance": unknown.json()["instance"]}

    admin = accounts.headers(uuid.uuid4().hex, role="admin")
    seen = await user.get(f"/v1/users/{owner.user_id}", headers=admin)
    assert seen.status_code == 200
    assert seen.json()["email"] == owner.email
    problem(await user.get(f"/v1/users/{uuid.uuid4().hex}", headers=admin), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users/me"),
        ("PATCH", "/v1/users/me"),
        ("GET", "/v1/users/me/preferences"),
        ("PUT", "/v1/users/me/preferences"),
        ("GET", "/v1/users/someone"),
    ],
)
async def test_public_routes_need_a_user_token(
    fleet: Running, accounts: Accounts, method: str, path: str
) -> None:
    user = fleet.client("user")
    body = {"displayName": "x"} if method == "PATCH" else PREFERENCES
    json = body if method in {"PATCH", "PUT"} else None
    await needs_a_user_token(user, method, path, accounts.service_headers(), NOT_A_JWT, json=json)


async def test_internal_routes_serve_services_only(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    user = fleet.client("user")
    service = accounts.service_headers("notification")
    profile = await user.get(f"/internal/users/{account.user_id}", headers=service)
    assert profile.status_code == 200
    assert profile.json()["email"] == account.email
    preferences = await user.get(f"/internal/users/{account.user_id}/preferences", headers=service)
    assert preferences.status_code == 200
    assert preferences.json()["notifications"]["email"]["marketing"] is False

    problem(
        await user.get(f"/internal/users/{uuid.uuid4().hex}", headers=service), 404, "not-found"
    )
    problem(
        await user.get(f"/internal/users/{uuid.uuid4().hex}/preferences", headers=service),
        404,
        "not-found",
    )
    for path in (
        f"/internal/users/{account.user_id}",
        f"/internal/users/{account.user_id}/preferences",
    ):
        problem(await user.get(path), 401, "unauthorized")
        problem(await user.get(path, headers=account.headers), 401, "unauthorized")
        admin = accounts.headers(account.user_id, role="admin")
        problem(await user.get(path, headers=admin), 401, "unauthorized")


async def test_recipients_answers_profiles_and_preferences_of_many_users_at_once(
    fleet: Running, accounts: Accounts
) -> None:
    first, second = await accounts.create(), await accounts.create()
    user = fleet.client("user")
    service = accounts.service_headers("notification")
    unknown = uuid.uuid4().hex
    asked = [first.user_id, unknown, second.user_id, first.user_id]
    found = await user.get("/internal/recipients", params={"userId": asked}, headers=service)
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [i["profile"]["userId"] for i in items] == [first.user_id, second.user_id]
    assert items[0]["profile"]["email"] == first.email
    assert items[1]["preferences"]["notifications"]["email"]["marketing"] is False
    too_many = [uuid.uuid4().hex for _ in range(26)]
    problem(
        await user.get("/internal/recipients", params={"userId": too_many}, headers=service),
        422,
        "too-many-recipients",
    )
    path = f"/internal/recipients?userId={first.user_id}"
    problem(await user.get(path, headers=accounts.service_headers("contract")), 403, "forbidden")
    problem(await user.get(path, headers=first.headers), 401, "unauthorized")
