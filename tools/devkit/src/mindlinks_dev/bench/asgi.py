"""``make bench``: what the kit costs per request, measured, not guessed.

Runs real service apps in-process against an embedded moto server and the
real Redis (or an embedded one) and drives them at the ASGI boundary, so the
numbers are the service's own CPU per request without a client or socket.
Prints one table; the README quotes it.

Measured:
- a bare FastAPI route (the floor);
- ``GET /health/live`` through the kit's middleware (correlation id, span,
  access log, EMF metrics);
- ``GET /v1/users/me`` with a real RS256 token: the above plus JWKS-cached
  token verification and one DynamoDB read (moto's time excluded: CPU of this
  process only);
- RS256 verification alone; Argon2id (the login hash) alone;
- the process's peak RSS after starting auth, user and notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

Scope = dict[str, Any]


def _scope(path: str, headers: dict[str, str] | None = None) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def _call(app: Any, scope: Scope) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def cpu_per_call(call: Callable[[], Awaitable[Any]], n: int) -> float:
    """Median over 5 rounds of process CPU milliseconds per call."""
    for _ in range(min(50, n)):  # warm caches (JWKS, connections, imports)
        await call()
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            await call()
        rounds.append((time.process_time() - started) * 1000 / n)
    return statistics.median(rounds)


async def _measure(n: int) -> list[tuple[str, float, str]]:
    from mindlinks_dev.bootstrap import bootstrap
    from mindlinks_dev.embedded import aws_environment, moto_server, redis_server
    from mindlinks_dev.harness import installed_services, run_services
    from mindlinks_fleet import FLEET

    results: list[tuple[str, float, str]] = []
    bare = FastAPI()

    @bare.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    async def bare_call() -> None:
        assert await _call(bare, _scope("/ping")) == 200

    results.append(("bare FastAPI route", await cpu_per_call(bare_call, n), "ms CPU/request"))

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
                "MINDLINKS_MAILBOX_DIR": stack.enter_context(_tempdir()),
            }
        )
        factories = installed_services()
        names = [n for n in ("auth", "user", "notification") if n in factories]
        with contextlib.redirect_stdout(io.StringIO()) as logs:
            async with run_services({name: factories[name] for name in names}) as fleet:
                user_app = fleet.apps["user"]

                async def live() -> None:
                    assert await _call(user_app, _scope("/health/live")) == 200

                results.append(
                    (
                        "kit middleware: GET /health/live",
                        await cpu_per_call(live, n),
                        "ms CPU/request",
                    )
                )

                user_id = uuid.uuid4().hex
                await _create_profile(fleet, user_id)
                headers = fleet.bearer(user_id)

                async def me() -> None:
                    assert await _call(user_app, _scope("/v1/users/me", headers)) == 200

                results.append(
                    (
                        "GET /v1/users/me (token + DynamoDB read)",
                        await cpu_per_call(me, n),
                        "ms CPU/request",
                    )
                )
                verifier = fleet.runtime("user").verifier
                token = headers["authorization"].removeprefix("Bearer ")

                async def verify() -> None:
                    await verifier.user(token)

                results.append(
                    (
                        "RS256 token verification (cached JWKS)",
                        await cpu_per_call(verify, n),
                        "ms CPU/verify",
                    )
                )
                passwords = fleet.deps("auth").accounts.passwords
                if passwords:
                    hashed = await passwords.hash("a long passphrase 42")
                    started = time.perf_counter()
                    for _ in range(5):
                        await passwords.verify("a long passphrase 42", hashed)
                    results.append(
                        (
                            "Argon2id verify (off the event loop)",
                            (time.perf_counter() - started) * 1000 / 5,
                            "ms wall/verify",
                        )
                    )
        del logs
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.append((f"peak RSS with {', '.join(names)} in one process", rss, "MiB"))
    return results


async def _create_profile(fleet: Any, user_id: str) -> None:
    from mindlinks_fleet.events import UserCreated

    auth = fleet.runtime("auth")
    uow = auth.uow()
    auth.publish(
        uow,
        "user.created",
        UserCreated(user_id=user_id, email=f"{user_id}@bench.example", name="Bench", role="client"),
    )
    await uow.commit()
    await fleet.deliver()


@contextlib.contextmanager
def _tempdir() -> Any:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        yield directory


def main(argv: list[str] | None = None) -> int:
    n = int((argv or sys.argv[1:] or ["500"])[0])
    results = asyncio.run(_measure(n))
    width = max(len(name) for name, _, _ in results)
    print(f"{'measure':<{width}}  value")
    for name, value, unit in results:
        print(f"{name:<{width}}  {value:8.3f} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
