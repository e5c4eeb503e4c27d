"""Auth runs for real (moto server, real Redis) beside the real notification
and user services when they are installed. Until notification is installed,
its HTTP boundary is faked (same contract) so the email flows still run."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mindlinks_auth.deps import AuthDeps
from mindlinks_auth.settings import Settings
from mindlinks_dev import totp
from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.people import mailbox
from mindlinks_dev.problem import problem
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_kit.dynamo import values

INSTALLED = installed_services()
HAS_NOTIFICATION = "notification" in INSTALLED
HAS_USER = "user" in INSTALLED
PASSWORD = "Correct-Horse-9-Battery"
NEW_PASSWORD = "Another-Fine-Passphrase-42"


class FakeNotification:
    """The notification contract at its HTTP boundary (until the real one is installed)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/internal/notifications/send"
        assert request.headers["authorization"].startswith("Bearer ")
        body = json.loads(request.content)
        assert body["template"] in {
            "auth.verify-email",
            "auth.reset-password",
            "auth.account-exists",
            "auth.step-up-code",
        }
        assert set(body["recipient"]) == {"userId", "email", "name"}
        assert body["essential"] is True
        item = {
            "id": uuid.uuid4().hex,
            "to": body["recipient"]["email"],
            "template": body["template"],
            "data": body["data"],
        }
        self.sent.insert(0, item)
        return httpx.Response(202, json={"id": item["id"]})


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("notification is down", request=request)


class Mailbox:
    def __init__(self, fleet: Running, fake: FakeNotification | None) -> None:
        self.fleet = fleet
        self.fake = fake

    async def items(self, to: str, template: str) -> list[dict[str, Any]]:
        """The mails of one template sent to ``to``, newest first."""
        if self.fake is not None:
            sent = [item for item in self.fake.sent if item["to"] == to]
        else:
            sent = await mailbox(self.fleet, to)
        return [item for item in sent if item["template"] == template]

    async def token(self, to: str, template: str) -> str:
        matching = await self.items(to, template)
        assert matching, f"no {template} mail for {to}"
        token: str = matching[0]["data"]["token"]
        return token


class AuthTest:
    """What the auth tests share: the running fleet, the auth client, the
    bootstrapped resources, the mailbox, and helpers."""

    PASSWORD = PASSWORD
    NEW_PASSWORD = NEW_PASSWORD

    def __init__(self, fleet: Running, resources: Bootstrapped, mailbox: Mailbox) -> None:
        self.fleet = fleet
        self.resources = resources
        self.mailbox = mailbox
        self.auth = fleet.client("auth")

    def notification_up(self) -> None:
        """Route auth's notification calls to the real service (or the fake)."""
        peers = self.fleet.runtime("auth").peers
        if self.mailbox.fake is not None:
            peers.mount("notification", httpx.MockTransport(self.mailbox.fake))
        else:
            peers.mount("notification", httpx.ASGITransport(app=self.fleet.apps["notification"]))

    @property
    def deps(self) -> AuthDeps:
        value: AuthDeps = self.fleet.deps("auth")
        return value

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @staticmethod
    def new_email() -> str:
        return f"u{uuid.uuid4().hex[:12]}@example.com"

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"authorization": f"Bearer {token}"}

    problem = staticmethod(problem)

    async def user(
        self,
        *,
        role: str = "client",
        verified: bool = True,
        email: str | None = None,
        password: str = PASSWORD,
    ) -> dict[str, Any]:
        """A user made through the accounts service (no email round trip)."""
        accounts = self.deps.accounts
        if role == "admin":
            secret = totp.new_secret()
            user = await accounts.create_admin(
                email=email or self.new_email(),
                password=password,
                name="Grace Hopper",
                mfa_secret=secret,
            )
            return {
                "id": user.id,
                "email": user.email,
                "password": password,
                "role": user.role,
                "mfaSecret": secret,
            }
        user = await accounts.register(
            email=email or self.new_email(), password=password, name="Ada Lovelace", role=role
        )  # type: ignore[arg-type]
        if verified:
            await self.deps.store.update_user(user.id, {"emailVerified": True})
        return {"id": user.id, "email": user.email, "password": password, "role": user.role}

    async def login(self, user: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Signed in, with a one-time code when the user has MFA (admins)."""
        if "mfaSecret" in user and "mfaCode" not in extra:
            extra["mfaCode"] = totp.code(user["mfaSecret"])
        response = await self.auth.post(
            "/v1/auth/login", json={"email": user["email"], "password": user["password"], **extra}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def service_token(self, service: str) -> str:
        response = await self.auth.post(
            "/internal/auth/service-tokens",
            json={"service": service, "secret": self.resources.service_secrets[service]},
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    async def service_headers(self, service: str) -> dict[str, str]:
        return self.bearer(await self.service_token(service))

    async def published(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Events about a user still in auth's outbox (newest first): the
        relay does not run in tests until someone flushes it."""
        items, _ = (
            await self.fleet.runtime("auth")
            .table("outbox")
            .query(
                "pendingShard = :p", values=values(p="p"), index="pending", forward=False, limit=200
            )
        )
        found = []
        for item in items:
            detail = json.loads(item["detail"])
            if detail["data"].get("userId") == user_id:
                found.append((item["detailType"], {**detail["data"], "_id": detail["id"]}))
        return found


@pytest.fixture
async def fleet(
    start_services: StartServices,
    fleet_resources: Bootstrapped,
) -> AsyncIterator[Running]:
    names = ["auth", *(n for n in ("notification", "user") if n in INSTALLED)]
    async with start_services(*names) as running:
        redis = running.runtime("auth").redis
        assert redis is not None
        # Every test signs in from 127.0.0.1: start each with a clean address count.
        async for key in redis.scan_iter(match=f"{fleet_resources.prefix}auth:throttle:ip:*"):
            await redis.delete(key)
        yield running


@pytest.fixture
async def t(fleet: Running, fleet_resources: Bootstrapped) -> AuthTest:
    fake = None if HAS_NOTIFICATION else FakeNotification()
    test = AuthTest(fleet, fleet_resources, Mailbox(fleet, fake))
    test.notification_up()
    return test
