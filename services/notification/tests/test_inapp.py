"""user.created → the welcome; in-app lists, cursors and read marks."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Account, Accounts


async def mine(fleet: Running, account: Account, **params: Any) -> Any:
    return await fleet.client("notification").get(
        "/v1/notifications/me", headers=account.headers, params=params
    )


async def send_in_app(accounts: Accounts, account: Account, n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = await accounts.send(
            {
                "template": "user.welcome",
                "channels": ["inApp"],
                "recipient": {"userId": account.user_id, "email": account.email, "name": "Ada"},
                "data": {"name": f"Ada {i}", "dashboardUrl": "https://app.example", "n": 1.5},
            }
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


async def test_user_created_brings_a_welcome_once(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create(name="Grace <Hopper>")
    items = (await mine(fleet, account)).json()["items"]
    assert len(items) == 1
    welcome = items[0]
    assert welcome["template"] == "user.welcome"
    assert welcome["title"] == "Welcome to Mind-Links, Grace <Hopper>"
    assert welcome["readAt"] is None
    [mail] = await accounts.mailbox(account.email)
    assert mail["id"] == welcome["id"]
    assert "Grace &lt;Hopper&gt;" in mail["html"]

    assert await accounts.republish(account.event_id) >= 1
    assert len((await mine(fleet, account)).json()["items"]) == 1
    assert len(await accounts.mailbox(account.email)) == 1


async def test_a_failed_commit_redelivered_mails_once(fleet: Running, accounts: Accounts) -> None:
    """The email went out but the handler's transaction failed: SQS redelivers,
    the in-app welcome is written then, the email is not sent again."""
    from mindlinks_fleet.events import UserCreated
    from mindlinks_kit.dynamo import UnitOfWork
    from mindlinks_kit.events.envelope import Delivered, Detail

    notifier = fleet.deps("notification").notifier
    runtime = fleet.runtime("notification")
    user_id = uuid.uuid4().hex
    payload = UserCreated(
        user_id=user_id, email=f"{user_id}@example.com", name="Ada", role="client"
    )
    event = Delivered("user.created", "mindlinks.auth", Detail(data=payload.model_dump()), payload)
    lost = UnitOfWork(runtime.aws.dynamodb)
    await notifier.welcome(event.payload, event.id, lost)  # mailed; never committed
    retried = runtime.uow()
    await notifier.welcome(event.payload, event.id, retried)
    await retried.commit()
    headers = accounts.headers(user_id)
    listed = await fleet.client("notification").get("/v1/notifications/me", headers=headers)
    assert len(listed.json()["items"]) == 1
    assert len(await accounts.mailbox(payload.email)) == 1


async def test_pages_are_newest_first_with_cursors(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    ids = await send_in_app(accounts, account, 4)
    expected = [*reversed(ids)]
    first = (await mine(fleet, account, limit=2)).json()
    assert [n["id"] for n in first["items"]] == expected[:2]
    assert first["items"][0]["data"]["n"] == 1.5
    second = (await mine(fleet, account, limit=2, cursor=first["nextCursor"])).json()
    assert [n["id"] for n in second["items"]] == expected[2:]
    third = (await mine(fleet, account, limit=2, cursor=second["nextCursor"])).json()
    assert [n["template"] for n in third["items"]] == ["user.welcome"]  # the welcome
    assert third["nextCursor"] is None


async def test_cursors_are_bound_to_their_list(fleet: Running, accounts: Accounts) -> None:
    owner = await accounts.create()
    await send_in_app(accounts, owner, 2)
    cursor = (await mine(fleet, owner, limit=1)).json()["nextCursor"]
    assert cursor
    other = await accounts.create()
    for bad in (cursor, "garbage", cursor[:-2] + "AA"):
        response = await mine(fleet, other if bad == cursor else owner, cursor=bad)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid-cursor"
    for limit in (0, 101, "x"):
        response = await mine(fleet, owner, limit=limit)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid-input"


async def test_read_marks_are_for_the_owner(fleet: Running, accounts: Accounts) -> None:
    owner = await accounts.create()
    other = await accounts.create()
    [notification_id] = await send_in_app(accounts, owner, 1)
    notification = fleet.client("notification")
    path = f"/v1/notifications/{notification_id}/read"

    foreign = await notification.post(path, headers=other.headers)
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"
    unknown = await notification.post(
        f"/v1/notifications/{uuid.uuid4().hex}/read", headers=owner.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == foreign.json()["code"] == "not-found"

    assert (await notification.post(path, headers=owner.headers)).status_code == 204
    read_at = next(
        n["readAt"]
        for n in (await mine(fleet, owner)).json()["items"]
        if n["id"] == notification_id
    )
    assert read_at
    assert (await notification.post(path, headers=owner.headers)).status_code == 204
    again = next(
        n["readAt"]
        for n in (await mine(fleet, owner)).json()["items"]
        if n["id"] == notification_id
    )
    assert again == read_at


async def test_in_app_routes_need_a_user_token(fleet: Running, accounts: Accounts) -> None:
    notification = fleet.client("notification")
    for method, path in (
        ("GET", "/v1/notifications/me"),
        ("POST", f"/v1/notifications/{uuid.uuid4().hex}/read"),
    ):
        for headers in (
            {},
            accounts.service_headers("auth"),
            {"authorization": "Basic dXNlcjpwYXNz"},
        ):
            response = await notification.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "unauthorized"
