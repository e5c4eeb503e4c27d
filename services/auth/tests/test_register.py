"""Registration, email verification and its emails, and user.created."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from mindlinks_auth.tokens import digest
from mindlinks_kit.dynamo import values

if TYPE_CHECKING:
    from conftest import AuthTest

VERIFY = "auth.verify-email"


def signup(t: AuthTest, **overrides: Any) -> dict[str, Any]:
    return {
        "email": t.new_email(),
        "password": t.PASSWORD,
        "name": "Ada Lovelace",
        "role": "client",
        **overrides,
    }


async def test_register_creates_an_unverified_account(t: AuthTest) -> None:
    data = signup(t, email="  Ada.Lovelace+X@Example.COM ", role="contractor")
    response = await t.auth.post("/v1/auth/register", json=data)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "id": created["id"],
        "email": "ada.lovelace+x@example.com",
        "name": "Ada Lovelace",
        "role": "contractor",
        "emailVerified": False,
    }
    stored = await t.deps.store.user(created["id"])
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert t.PASSWORD not in json.dumps(stored.__dict__)
    # Unverified: no sign-in yet.
    login = await t.auth.post(
        "/v1/auth/login", json={"email": created["email"], "password": t.PASSWORD}
    )
    t.problem(login, 403, "email-not-verified")


async def test_register_rejects_a_taken_email_whatever_its_case(t: AuthTest) -> None:
    data = signup(t)
    assert (await t.auth.post("/v1/auth/register", json=data)).status_code == 201
    again = await t.auth.post(
        "/v1/auth/register", json={**data, "email": data["email"].upper(), "name": "Eve"}
    )
    t.problem(again, 409, "email-taken")


async def test_register_validates_input(t: AuthTest) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (signup(t, email="not-an-email"), "email"),
        (signup(t, email="x@localhost"), "email"),
        (signup(t, role="admin"), "role"),
        (signup(t, name="   "), "name"),
        ({"email": t.new_email(), "password": t.PASSWORD}, "name"),
        (signup(t, extra="field"), "extra"),
    ]
    for data, field in cases:
        response = await t.auth.post("/v1/auth/register", json=data)
        found = t.problem(response, 422, "invalid-input")
        assert any(field in error["location"] for error in found["errors"]), (field, found)


async def test_register_refuses_weak_passwords(t: AuthTest) -> None:
    weak = [
        "short1A!",
        "alllowercaseletters",
        "Password12345!",
        "123456789012",
        "aaaaaaaaaaaa1",
        "Qwertyuiop123",
        "ada.lovelace-1A",
        "AbcdefghijklmnoP",
    ]
    for password in weak:
        data = signup(t, email=f"ada.lovelace.{len(password)}@example.com", password=password)
        found = t.problem(await t.auth.post("/v1/auth/register", json=data), 422, "weak-password")
        assert found["errors"][0]["location"] == ["body", "password"], password
    strong = signup(t, password="violet-Staple-Orbit-88")
    assert (await t.auth.post("/v1/auth/register", json=strong)).status_code == 201


async def test_register_publishes_user_created(t: AuthTest) -> None:
    response = await t.auth.post("/v1/auth/register", json=signup(t))
    user = response.json()
    published = await t.published(user["id"])
    assert [name for name, _ in published] == ["user.created"]
    data = published[0][1]
    event_id = data.pop("_id")
    assert data == {
        "userId": user["id"],
        "email": user["email"],
        "name": "Ada Lovelace",
        "role": "client",
    }
    runtime = t.fleet.runtime("auth")
    assert runtime.relay is not None
    if "user" in t.fleet.apps:
        # Through the real path: outbox → EventBridge → the user service's queue.
        await t.fleet.deliver()
        inbox = t.fleet.runtime("user").table("inbox")
        assert await inbox.get({"eventId": event_id}) is not None
        return
    # Without the user service: the event reaches its queue through the bus rule.
    assert await runtime.relay.flush() >= 1
    sqs = runtime.aws.sqs
    queue = t.resources.queues["user"]
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(50):
        messages = (
            await sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            envelope = json.loads(message["Body"])
            seen[envelope["detail"]["id"]] = envelope
            await sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        if event_id in seen:
            break
    envelope = seen[event_id]
    assert envelope["source"] == "mindlinks.auth"
    assert envelope["detail-type"] == "user.created"
    assert envelope["detail"]["data"]["userId"] == user["id"]


async def test_register_sends_the_verification_email_and_the_link_verifies(t: AuthTest) -> None:
    data = signup(t)
    created = (await t.auth.post("/v1/auth/register", json=data)).json()
    mails = await t.mailbox.items(data["email"], VERIFY)
    assert len(mails) == 1
    token = mails[0]["data"]["token"]
    assert mails[0]["data"]["verifyUrl"] == (
        f"{t.settings.public_base_url}/verify-email?token={token}"
    )
    # The token is stored hashed only.
    redis = t.fleet.runtime("auth").redis
    assert redis is not None
    assert not [k async for k in redis.scan_iter(match=f"*{token}*")]

    verified = await t.auth.post("/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"emailVerified": True}
    assert (await t.login({**data, "id": created["id"]}))["tokenType"] == "Bearer"
    # Single use.
    again = await t.auth.post("/v1/auth/verify-email", json={"token": token})
    t.problem(again, 400, "invalid-token")


async def test_verify_email_rejects_unknown_tokens(t: AuthTest) -> None:
    t.problem(
        await t.auth.post("/v1/auth/verify-email", json={"token": "nope"}), 400, "invalid-token"
    )
    t.problem(await t.auth.post("/v1/auth/verify-email", json={}), 422, "invalid-input")


async def test_registration_survives_a_notification_outage_and_resend_works(t: AuthTest) -> None:
    peers = t.fleet.runtime("auth").peers
    peers.mount("notification", httpx.MockTransport(_down))
    data = signup(t)
    response = await t.auth.post("/v1/auth/register", json=data)
    assert response.status_code == 201, response.text
    assert await t.mailbox.items(data["email"], VERIFY) == []

    # Notification is back: resend sends it (a failed send sets no cooldown).
    t.notification_up()
    resend = await t.auth.post("/v1/auth/verify-email/resend", json={"email": data["email"]})
    assert resend.status_code == 202
    token = await t.mailbox.token(data["email"], VERIFY)
    assert (await t.auth.post("/v1/auth/verify-email", json={"token": token})).status_code == 200


def _down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("notification is down", request=request)


async def test_resend_is_always_accepted_and_rate_limited(t: AuthTest) -> None:
    data = signup(t)
    await t.auth.post("/v1/auth/register", json=data)
    # Within the cooldown nothing more is sent; unknown addresses look the same.
    for email in (data["email"], t.new_email(), "not-an-email"):
        response = await t.auth.post("/v1/auth/verify-email/resend", json={"email": email})
        assert response.status_code == 202
        assert response.content == b""
    assert len(await t.mailbox.items(data["email"], VERIFY)) == 1
    # Verified accounts get no verification email.
    token = await t.mailbox.token(data["email"], VERIFY)
    await t.auth.post("/v1/auth/verify-email", json={"token": token})
    await t.deps.accounts.flags.clear(f"cooldown:verify:{_digest(data['email'])}")
    await t.auth.post("/v1/auth/verify-email/resend", json={"email": data["email"]})
    assert len(await t.mailbox.items(data["email"], VERIFY)) == 1


def _digest(email: str) -> str:
    return digest(email)[:32]


async def test_email_claim_items_are_not_users(t: AuthTest) -> None:
    data = signup(t)
    await t.auth.post("/v1/auth/register", json=data)
    users = t.deps.store.users
    claim = await users.get({"id": f"email#{data['email']}"})
    assert claim is not None
    assert "email" not in claim
    assert await t.deps.store.user(f"email#{data['email']}") is None
    items, _ = await users.query("email = :e", values=values(e=data["email"]), index="by-email")
    assert [i["kind"] for i in items] == ["user"]
