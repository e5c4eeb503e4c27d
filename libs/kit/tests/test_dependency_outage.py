"""A store that does not answer is the caller's cue to retry (503 with
Retry-After), never an "internal error": found by ``make chaos`` (the embedded
AWS cut for 10 s made every service answer 500)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aioboto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import FastAPI, Request
from redis.asyncio import Redis

from mindlinks_dev.embedded import free_port
from mindlinks_kit.app import redis_client
from mindlinks_kit.errors import install_handlers, is_transient


async def _dynamodb_refused() -> None:
    port = free_port()  # nothing listens here
    session = aioboto3.Session(region_name="eu-west-1")
    config = Config(connect_timeout=1, retries={"max_attempts": 1})
    async with session.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    ) as client:
        await client.get_item(TableName="t", Key={"id": {"S": "x"}})


async def _redis_refused() -> None:
    await redis_client(f"redis://127.0.0.1:{free_port()}/0").get("x")


async def _throttled() -> None:
    error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    raise ClientError(error, "Query")  # type: ignore[arg-type]


async def _wrapped() -> None:
    try:
        await _redis_refused()
    except Exception as exc:
        raise RuntimeError("while counting sign-in attempts") from exc


async def _bug() -> None:
    raise KeyError("a bug")


def _app(failure: Callable[[], Awaitable[None]]) -> FastAPI:
    app = FastAPI()
    install_handlers(app, redis=True)

    @app.get("/thing")
    async def thing() -> None:
        await failure()

    return app


@pytest.mark.parametrize(
    ("failure", "raised"),
    [(_dynamodb_refused, False), (_redis_refused, False), (_throttled, False), (_wrapped, True)],
    ids=["dynamodb-refused", "redis-refused", "throttled", "wrapped"],
)
async def test_an_unreachable_store_answers_503_with_retry_after(
    failure: Callable[[], Awaitable[None]], raised: bool
) -> None:
    """Handled where it is raised (no traceback logged per 503), unless an
    error of ours wraps it: then it is answered the same, as a last resort."""
    transport = httpx.ASGITransport(app=_app(failure), raise_app_exceptions=not raised)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/thing")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "dependency-unavailable"


async def test_a_bug_is_still_an_internal_error() -> None:
    transport = httpx.ASGITransport(app=_app(_bug), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/thing")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"


def test_a_refused_aws_request_is_transient_but_a_bad_one_is_not() -> None:
    invalid = {"Error": {"Code": "ValidationException", "Message": "bad key"}}
    assert not is_transient(ClientError(invalid, "GetItem"))  # type: ignore[arg-type]
    assert not is_transient(ValueError("x"))


async def test_redis_calls_give_up_instead_of_hanging() -> None:
    client = redis_client("redis://127.0.0.1:6379/9")
    assert isinstance(client, Redis)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 5.0
    await client.aclose()


async def test_a_caller_that_leaves_mid_body_is_not_an_internal_error() -> None:
    """Found by ``make chaos``: the local Stripe gave up on a slow webhook, the
    body never arrived, and the service logged and counted a 500."""
    app = FastAPI()
    install_handlers(app)

    @app.post("/hook")
    async def hook(request: Request) -> None:
        await request.body()

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/hook",
        "raw_path": b"/hook",
        "query_string": b"",
        "headers": [(b"content-length", b"10")],
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
        "scheme": "http",
        "root_path": "",
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 499
