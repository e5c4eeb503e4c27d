"""Registration, email verification and its emails, and user.created."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from botocore.exceptions import ClientError

from mindlinks_auth.tokens import digest
from mindlinks_dev.embedded import free_port
from mindlinks_kit.app import redis_client
from mindlinks_kit.dynamo import values

if TYPE_CHECKING:
    from conftest import AuthTest

VERIFY = "auth.verify-email"
EXISTS = "auth.account-exists"


def signup(t: AuthTest, **overrides: Any) -> dict[str, Any]:
    return {
        "email": t.new_email(),
        "password": t.PASSWORD,
        "name": "Ada Lovelace",
        "role": "client",
        **overrides,
    }


async def registered(t: AuthTest, data: dict[str, Any]) -> str:
    """Register through the API; the new user's id (the response names none)."""
    response = await t.auth.post("/v1/auth/register", json=data)
    assert response.status_code == 202, response.text
    stored = await t.deps.store.user_by_email(response.json()["email"])
    assert stored is not None
    return stored.id


async def test_register_creates_an_unverified_account(t: AuthTest) -> None:
    data = signup(t, email="  Ada.Lovelace+X@Example.COM ", role="contractor")
    response = await t.auth.post("/v1/auth/register", json=data)
    assert response.status_code == 202, response.text
    created = response.json()
    assert created == {"email": "ada.lovelace+x@example.com"}
    stored = await t.deps.store.user_by_email(created["email"])
    assert stored is not None
    assert (stored.name, stored.role, stored.email_verified) == (
        "Ada Lovelace",
        "contractor",
        False,
    )
    assert stored.password_hash.startswith("$argon2id$")
    assert t.PASSWORD not in json.dumps(stored.__dict__)
    # Unverified: no sign-in yet, answered as a wrong password (see below).
    login = await t.auth.post(
        "/v1/auth/login", json={"email": created["email"], "password": t.PASSWORD}
    )
    t.problem(login, 401, "invalid-credentials")


VOLATILE = {"date", "x-correlation-id", "content-length"}


def _shape(response: httpx.Response) -> tuple[int, dict[str, str], list[str]]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE}
    return response.status_code, headers, sorted(response.json())


async def test_a_taken_email_answers_as_a_new_one_and_mails_the_owner(t: AuthTest) -> None:
    owner = signup(t)
    first = await t.auth.post("/v1/auth/register", json=owner)
    before = await t.deps.store.user_by_email(owner["email"])
    fresh = await t.auth.post("/v1/auth/register", json=signup(t))
    again = await t.auth.post(
        "/v1/auth/register",
        json={
            "email": owner["email"].upper(),
            "password": "Violet-Orbit-Staple-77",
            "name": "Eve Intruder",
            "role": "contractor",
        },
    )
    # Nothing tells the caller the address is taken.
    assert again.status_code == 202, again.text
    assert again.content == first.content
    assert _shape(again) == _shape(fresh) == _shape(first)
    # The account is untouched and nothing new was created or published.
    after = await t.deps.store.user_by_email(owner["email"])
    assert before is not None
    assert after == before
    assert [name for name, _ in await t.published(before.id)] == ["user.created"]
    # Its owner hears about it (once per cooldown), and gets no second link.
    await t.auth.post("/v1/auth/register", json=owner)
    notices = await t.mailbox.items(owner["email"], EXISTS)
    assert len(notices) == 1
    base = t.settings.public_base_url
    assert notices[0]["data"] == {
        "name": "Ada Lovelace",
        "signInUrl": f"{base}/login",
        "resetUrl": f"{base}/forgot-password",
    }
    assert len(await t.mailbox.items(owner["email"], VERIFY)) == 1


async def test_signing_in_after_registering_does_not_tell_a_taken_email_either(
    t: AuthTest,
) -> None:
    """Register an address with a password of one's own, then sign in with it:
    a new (unverified) account must answer like a taken one, whose password
    is not this one — also when the throttle steps in."""
    owner = signup(t)
    await registered(t, owner)
    probe = "Violet-Orbit-Staple-77"
    answers = []
    for email in (owner["email"], t.new_email()):
        await t.auth.post("/v1/auth/register", json={**owner, "email": email, "password": probe})
        seen = []
        for _ in range(t.settings.login_pair_free_failures + 1):
            response = await t.auth.post("/v1/auth/login", json={"email": email, "password": probe})
            body = response.json()
            seen.append((response.status_code, body["code"], body["detail"]))
        answers.append(seen)
    taken, new = answers
    assert taken == new
    assert taken[0][:2] == (401, "invalid-credentials")


async def test_a_taken_email_still_costs_a_password_hash(
    t: AuthTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both answers take at least one hash, so timing does not tell them apart."""
    passwords = t.deps.accounts.passwords
    hash_password = passwords.hash

    async def slow_hash(password: str) -> str:
        await asyncio.sleep(0.5)
        return await hash_password(password)

    monkeypatch.setattr(passwords, "hash", slow_hash)
    data = signup(t)
    for body in (data, {**data, "name": "Eve Intruder"}):
        started = time.perf_counter()
        response = await t.auth.post("/v1/auth/register", json=body)
        assert response.status_code == 202, response.text
        assert time.perf_counter() - started >= 0.5


async def test_a_taken_email_with_a_weak_password_is_refused_as_a_new_one(t: AuthTest) -> None:
    data = signup(t)
    await registered(t, data)
    for email in (data["email"], t.new_email()):
        weak = await t.auth.post(
            "/v1/auth/register", json={**data, "email": email, "password": "password"}
        )
        t.problem(weak, 422, "weak-password")


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
    assert (await t.auth.post("/v1/auth/register", json=strong)).status_code == 202


async def test_register_publishes_user_created(t: AuthTest) -> None:
    data = signup(t)
    user = {"id": await registered(t, data), "email": data["email"]}
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
    await registered(t, data)
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
    assert (await t.login(data))["tokenType"] == "Bearer"
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
    assert response.status_code == 202, response.text
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


async def test_a_send_that_fails_midway_sets_no_cooldown(t: AuthTest) -> None:
    """Found by ``make chaos``: Redis timed out while the verification token
    was issued, after the cooldown was set; nothing was mailed and a resend
    stayed silent for the whole cooldown."""
    tokens = t.deps.accounts.verify_tokens
    working = tokens.redis
    tokens.redis = redis_client(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    data = signup(t)
    try:
        assert (await t.auth.post("/v1/auth/register", json=data)).status_code == 202
    finally:
        await tokens.redis.aclose()
        tokens.redis = working
    assert await t.mailbox.items(data["email"], VERIFY) == []
    resend = await t.auth.post("/v1/auth/verify-email/resend", json={"email": data["email"]})
    assert resend.status_code == 202
    token = await t.mailbox.token(data["email"], VERIFY)
    assert (await t.auth.post("/v1/auth/verify-email", json={"token": token})).status_code == 200


async def test_a_verification_the_store_fails_leaves_the_token_good(t: AuthTest) -> None:
    """Found reading the code for ``make chaos``: the token was spent before
    the account was marked verified, so a store failure in between (AWS
    unreachable, the process killed) burnt the link; the person's retry then
    got ``invalid-token``."""
    data = signup(t)
    await t.auth.post("/v1/auth/register", json=data)
    token = await t.mailbox.token(data["email"], VERIFY)
    store = t.deps.accounts.store
    users = store.users
    # a scratch copy of the table that was never created (the IAM check holds
    # "<table>-<8 hex digits>" to the table's grants): every call fails
    store.users = replace(users, name=users.name + "-0badc0de")
    try:
        failed = await t.auth.post("/v1/auth/verify-email", json={"token": token})
    except ClientError:
        pass  # the in-process transport re-raises what the app answers 500 for
    else:
        assert failed.status_code >= 500
    finally:
        store.users = users
    retried = await t.auth.post("/v1/auth/verify-email", json={"token": token})
    assert retried.status_code == 200, retried.text
    again = await t.auth.post("/v1/auth/verify-email", json={"token": token})
    t.problem(again, 400, "invalid-token")  # still single use
