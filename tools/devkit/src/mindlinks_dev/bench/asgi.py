"""What a request costs in CPU, measured in-process.

Real service apps (auth, user, notification) run their real lifespans in
this process against an embedded moto server and Redis and are driven at
the ASGI boundary, so a figure is the service's own CPU per request with no
client socket in it; moto and Redis are other processes, so their CPU is
not counted. Each figure is the least of 7 rounds of ``process_time``
(every thread of this process: Argon2id runs off the event loop): on a
machine shared with other work, a round can only be slowed by it (evicted
caches, a busy sibling core), never sped up, so the least round is the
cost itself — as ``timeit`` advises. The median moved by 2x between runs
on this machine; the least by a tenth.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from mindlinks_dev.bench.bare import create
from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.embedded import aws_environment, moto_server, redis_server
from mindlinks_dev.harness import Running, installed_services, run_services
from mindlinks_dev.motoserver import COUNTS_PATH
from mindlinks_fleet import FLEET
from mindlinks_fleet.internal import user

Scope = dict[str, Any]
PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a throwaway account
ROUNDS = 7


@dataclass(frozen=True)
class Costs:
    """CPU milliseconds of one call of each kind."""

    bare: float
    """A bare FastAPI route: the floor of every route."""
    health: float
    """``GET /health/live`` through the kit's middleware."""
    users_me: float
    """``GET /v1/users/me``: the kit, token verification, one DynamoDB read."""
    token_check: float
    """Checking an access token seen before: its RS256 signature is verified
    once and remembered until it expires; expiry and revocation every time."""
    dynamodb_get: float
    """One DynamoDB ``GetItem`` through the kit's table (the SDK's share)."""
    argon2: float
    """Verifying one password against auth's Argon2id hash."""
    login: float
    """``POST /v1/auth/login`` with a right password."""
    internal: float
    """An internal call with ``Peers.call`` (notification → user's profile)."""
    internal_bare: float
    """The same request made with a bare ``httpx`` client."""
    login_calls: dict[str, int]
    """The AWS calls one login makes, by kind (``dynamodb:Query``…)."""


def scope(path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def call(app: Any, request: Scope, body: bytes = b"") -> int:
    """Drive ``app`` with one request; its status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(request, receive, send)
    return status


async def cpu_per_call(once: Callable[[], Awaitable[Any]], n: int) -> float:
    """The least over ``ROUNDS`` rounds of process CPU milliseconds per call."""
    for _ in range(min(20, n)):  # warm caches (JWKS, connections, lazy imports)
        await once()
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(n):
            await once()
        rounds.append((time.process_time() - started) * 1000 / n)
    return min(rounds)


@contextlib.contextmanager
def _environment() -> Iterator[str]:
    """The embedded AWS with the fleet bootstrapped, Redis, and the settings
    every service reads (restored afterwards)."""
    saved = dict(os.environ)
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(redis_server())[0]
        prefix = f"bench{uuid.uuid4().hex[:6]}-"
        bootstrap(FLEET, endpoint_url=endpoint, prefix=prefix)
        os.environ.update(
            {
                **aws_environment(endpoint),
                "MINDLINKS_ENVIRONMENT": "test",
                "MINDLINKS_RESOURCE_PREFIX": prefix,
                "MINDLINKS_REDIS_URL": redis_url,
                "MINDLINKS_BACKGROUND_WORKERS": "false",
                "MINDLINKS_MAILBOX_DIR": stack.enter_context(tempfile.TemporaryDirectory()),
            }
        )
        try:
            yield endpoint
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.asynccontextmanager
async def _services() -> AsyncIterator[Running]:
    factories = installed_services()
    wanted = {name: factories[name] for name in ("auth", "user", "notification")}
    with contextlib.redirect_stdout(io.StringIO()):  # their access logs
        async with run_services(wanted) as fleet:
            yield fleet


async def _signed_up(fleet: Running) -> tuple[str, str]:
    """An account made through auth's public routes, its e-mail verified with
    the token the local mailbox received; (user id, e-mail)."""
    email = f"bench-{uuid.uuid4().hex[:10]}@bench.example"
    auth, notification = fleet.client("auth"), fleet.client("notification")
    registration = {"email": email, "password": PASSWORD, "name": "Bench", "role": "client"}
    answered = await auth.post("/v1/auth/register", json=registration)
    assert answered.status_code == 202, answered.text
    await fleet.deliver()
    mail = await notification.get("/v1/notifications/dev/mailbox", params={"to": email})
    token = next(m for m in mail.json()["items"] if m["template"] == "auth.verify-email")
    verified = await auth.post("/v1/auth/verify-email", json={"token": token["data"]["token"]})
    assert verified.status_code == 200, verified.text
    await fleet.deliver()
    return await fleet.user_id_of(email), email


async def measure(n: int = 300, logins: int = 8) -> Costs:
    """Every in-process cost: ``n`` calls a round of what costs well under a
    millisecond, a fifth of that of what calls AWS, ``logins`` logins."""
    bare = create()

    async def bare_call() -> None:
        assert await call(bare, scope("/ping")) == 200

    floor = await cpu_per_call(bare_call, n)
    with _environment() as endpoint:
        async with _services() as fleet:
            return await _measure(fleet, endpoint, (n, max(n // 5, 10), logins), floor)


async def aws_calls(endpoint: str, once: Callable[[], Awaitable[Any]], n: int) -> dict[str, int]:
    """The AWS calls ``once`` makes, by ``service:Action`` (the embedded AWS
    counts them), averaged over ``n`` calls and rounded."""
    async with httpx.AsyncClient(base_url=endpoint) as aws:
        await aws.delete(COUNTS_PATH)
        for _ in range(n):
            await once()
        counted: dict[str, int] = (await aws.get(COUNTS_PATH)).json()
    return {kind: round(calls / n) for kind, calls in sorted(counted.items()) if calls >= n / 2}


async def _measure(
    fleet: Running, endpoint: str, counts: tuple[int, int, int], bare: float
) -> Costs:
    # The hasher auth verifies with, so the floor has its parameters; imported
    # here because the devkit does not depend on a service's package.
    from mindlinks_auth.passwords import HASHER

    user_app = fleet.apps["user"]
    user_id, email = await _signed_up(fleet)
    headers = fleet.bearer(user_id)

    async def live() -> None:
        assert await call(user_app, scope("/health/live")) == 200

    async def me() -> None:
        assert await call(user_app, scope("/v1/users/me", headers)) == 200

    verifier = fleet.runtime("user").verifier
    token = headers["authorization"].removeprefix("Bearer ")

    async def verify() -> None:
        await verifier.user(token)

    profiles = fleet.runtime("user").table("profiles")

    async def read() -> None:
        assert await profiles.get({"userId": user_id}) is not None

    hashed = HASHER.hash(PASSWORD)

    async def argon2() -> None:
        assert HASHER.verify(PASSWORD, hashed)

    credentials = json.dumps({"email": email, "password": PASSWORD}).encode()
    login_scope = scope("/v1/auth/login", {"content-type": "application/json"}, "POST")

    async def login() -> None:
        assert await call(fleet.apps["auth"], login_scope, credentials) == 200

    peers = fleet.runtime("notification").peers
    path = user.PROFILE.fill(user_id)
    service_headers = fleet.service_bearer("notification")

    async def internal() -> None:
        assert await peers.call(user.PROFILE, user_id) is not None

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=user_app), base_url="http://user"
    ) as plain:

        async def internal_bare() -> None:
            response = await plain.get(path, headers=service_headers)
            assert response.status_code == 200
            response.json()

        cheap, costly, logins = counts
        return Costs(
            bare=bare,
            health=await cpu_per_call(live, cheap),
            users_me=await cpu_per_call(me, costly),
            token_check=await cpu_per_call(verify, cheap),
            dynamodb_get=await cpu_per_call(read, costly),
            argon2=await cpu_per_call(argon2, logins),
            login=await cpu_per_call(login, logins),
            internal=await cpu_per_call(internal, costly),
            internal_bare=await cpu_per_call(internal_bare, costly),
            login_calls=await aws_calls(endpoint, login, logins),
        )


def main() -> None:
    """``python -m mindlinks_dev.bench.asgi``: the in-process costs alone."""
    for name, value in vars(asyncio.run(measure())).items():
        print(f"{name:<14} {value}")


if __name__ == "__main__":
    main()
