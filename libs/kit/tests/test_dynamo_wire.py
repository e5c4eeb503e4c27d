"""The hot-read wire against botocore and the real moto server: the same
signature, answers, errors and retries as the SDK's."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiobotocore.credentials import AioCredentials, AioRefreshableCredentials
from aiobotocore.session import get_session
from aiohttp import web
from botocore.exceptions import ClientError, EndpointConnectionError

from mindlinks_kit import dynamo_wire
from mindlinks_kit.aws import _CONFIG
from mindlinks_kit.dynamo import InvalidCursor, Table
from mindlinks_kit.dynamo_wire import DynamoWire, backoff
from mindlinks_kit.errors import is_transient

REGION = "eu-west-1"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC)


class _Sent(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _client(endpoint: str, token: str | None = None) -> Any:
    return get_session().create_client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=_CONFIG,
    )


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:4566", "https://dynamodb.eu-west-1.amazonaws.com"]
)
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//token/with+odd=chars"])
async def test_the_signature_is_the_one_botocore_makes(
    endpoint: str, token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    params = {
        "TableName": "svc-profiles",
        "Key": {"userId": {"S": "ü-1"}},
        "ConsistentRead": True,
    }

    def capture(request: Any, **_: Any) -> None:
        raise _Sent(request)

    async with _client(endpoint, token) as client:
        client.meta.events.register("before-send.dynamodb", capture)
        with pytest.raises(_Sent) as sent:
            await client.get_item(**params)
        theirs = sent.value.request
        credentials = AioCredentials("AKIDEXAMPLE", SECRET, token)
        wire = DynamoWire(client, credentials)
        ours = wire.sign(
            await credentials.get_frozen_credentials(),
            json.dumps(params).encode(),
            {
                "X-Amz-Target": "DynamoDB_20120810.GetItem",
                "Content-Type": "application/x-amz-json-1.0",
            },
            NOW,
        )
    signed = {k: v.decode() if isinstance(v, bytes) else v for k, v in theirs.headers.items()}
    assert json.dumps(params).encode() == theirs.body  # so the payload hashes agree too
    assert ours["Authorization"] == signed["Authorization"]
    assert ours["X-Amz-Date"] == signed["X-Amz-Date"] == "20260301T235958Z"
    assert ours.get("X-Amz-Security-Token") == signed.get("X-Amz-Security-Token") == token


class Faults:
    """A loopback HTTP hop in front of moto: answers the next requests with
    the faults queued (status, body, headers), passes the rest through, and
    counts every request it received."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.queued: list[Callable[[bytes], web.Response]] = []
        self.received = 0
        self.url = ""

    def error(self, status: int, code: str, times: int = 1) -> None:
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": code})
        for _ in range(times):
            self.queued.append(
                lambda _b: web.Response(
                    status=status, body=body, content_type="application/x-amz-json-1.0"
                )
            )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.received += 1
        body = await request.read()
        if self.queued:
            return self.queued.pop(0)(body)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.upstream, data=body, headers=headers) as answer,
        ):
            passed = {k: v for k, v in answer.headers.items() if k.lower() == "x-amz-crc32"}
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                headers=passed,
                content_type="application/x-amz-json-1.0",
            )


@pytest.fixture
async def faults(aws_endpoint: str) -> AsyncIterator[Faults]:
    hop = Faults(aws_endpoint + "/")
    app = web.Application()
    app.router.add_post("/", hop.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hop.url = f"http://127.0.0.1:{port}"
    yield hop
    await runner.cleanup()


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The retries' backoff, noted instead of slept."""
    waited: list[int] = []

    def noted(attempt: int) -> float:
        waited.append(attempt)
        return 0.0

    monkeypatch.setattr(dynamo_wire, "backoff", noted)
    return waited


async def _table(client: Any) -> str:
    name = f"wire-{uuid.uuid4().hex[:8]}"
    await client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _wire(client: Any) -> DynamoWire:
    return DynamoWire(client, AioCredentials("AKIDEXAMPLE", SECRET))


async def test_reads_answer_what_the_sdk_answers(aws_endpoint: str) -> None:
    async with _client(aws_endpoint) as client, _wire(client) as wire:
        name = await _table(client)
        sdk, ours = Table(client, name), Table(client, name, None, wire)
        items = [
            {"id": "a", "blob": b"\x00\xffbytes", "blobs": {b"x", b"y"}, "f": Decimal("1.5")},
            {"id": "b", "nested": {"list": [1, "two", {"B": "not a blob"}], "flag": True}},
            {"id": "c", "tags": {"x", "y"}, "nums": {1, 2}, "empty": None},
        ]
        for item in items:
            await sdk.put(item)
        for key in ({"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "absent"}):
            assert await ours.get(key) == await sdk.get(key)
        assert (await ours.get({"id": "a"}) or {})["blob"] == b"\x00\xffbytes"
        keys = [{"id": "c"}, {"id": "absent"}, {"id": "a"}]
        assert await ours.get_many(keys) == await sdk.get_many(keys)
        b = {":id": {"S": "b"}}
        assert await ours.query("id = :id", values=b) == await sdk.query("id = :id", values=b)
        assert await ours.scan(limit=2) == await sdk.scan(limit=2)


async def test_errors_are_the_clients_exceptions_with_the_sdks_code_and_message(
    aws_endpoint: str,
) -> None:
    async with _client(aws_endpoint) as client, _wire(client) as wire:
        name = await _table(client)
        with pytest.raises(client.exceptions.ResourceNotFoundException) as theirs:
            await client.get_item(TableName=f"{name}-absent", Key={"id": {"S": "x"}})
        with pytest.raises(client.exceptions.ResourceNotFoundException) as ours:
            await wire.call("GetItem", {"TableName": f"{name}-absent", "Key": {"id": {"S": "x"}}})
        assert ours.value.response["Error"] == theirs.value.response["Error"]
        assert ours.value.operation_name == "GetItem"
        assert str(ours.value) == str(theirs.value)
        assert not is_transient(ours.value)

        bad = {"TableName": name, "KeyConditionExpression": "nope = :x"}
        with pytest.raises(ClientError) as theirs:
            await client.query(**bad, ExpressionAttributeValues={":x": {"S": "1"}})
        with pytest.raises(ClientError) as ours:
            await wire.call("Query", {**bad, "ExpressionAttributeValues": {":x": {"S": "1"}}})
        assert ours.value.response["Error"] == theirs.value.response["Error"]
        assert ours.value.response["Error"]["Code"] == "ValidationException"


async def test_a_start_key_dynamodb_refuses_is_an_invalid_cursor(
    aws_endpoint: str, faults: Faults
) -> None:
    async with _client(aws_endpoint) as setup:
        name = await _table(setup)
    async with _client(faults.url) as client, _wire(client) as wire:
        table = Table(client, name, None, wire)
        faults.error(400, "ValidationException")  # what DynamoDB answers a foreign key
        with pytest.raises(InvalidCursor):
            await table.query("id = :id", values={":id": {"S": "a"}}, start={"other": "key"})
        faults.error(400, "ValidationException")  # without a cursor it is our bug
        with pytest.raises(ClientError, match="ValidationException"):
            await table.query("id = :id", values={":id": {"S": "a"}})


async def test_throttling_and_5xx_are_retried_with_backoff_up_to_the_clients_attempts(
    aws_endpoint: str, faults: Faults, no_waiting: list[int]
) -> None:
    async with _client(aws_endpoint) as setup:
        name = await _table(setup)
        await setup.put_item(TableName=name, Item={"id": {"S": "t"}})
    async with _client(faults.url) as client, _wire(client) as wire:
        table = Table(client, name, None, wire)
        faults.error(400, "ProvisionedThroughputExceededException")
        faults.error(500, "InternalServerError")
        assert await table.get({"id": "t"}) == {"id": "t"}
        assert (faults.received, no_waiting) == (3, [1, 2])

        faults.received, no_waiting[:] = 0, []
        attempts = client.meta.config.retries["total_max_attempts"]
        assert attempts == 4  # the kit's config: 3 retries
        faults.error(400, "ThrottlingException", times=attempts)
        with pytest.raises(ClientError) as refused:
            await table.get({"id": "t"})
        error = refused.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["RetryAttempts"]) == (
            "ThrottlingException",
            3,
        )
        assert faults.received == 4
        assert no_waiting == [1, 2, 3]
        assert is_transient(refused.value)

        faults.received = 0
        faults.error(400, "ValidationException")
        with pytest.raises(ClientError, match="ValidationException"):
            await table.get({"id": "t"})
        assert faults.received == 1  # not the kind of error a retry mends


async def test_a_damaged_answer_is_retried(
    aws_endpoint: str, faults: Faults, no_waiting: list[int]
) -> None:
    async with _client(aws_endpoint) as setup:
        name = await _table(setup)
        await setup.put_item(TableName=name, Item={"id": {"S": "d"}, "n": {"N": "1"}})
    faults.queued.append(
        lambda _b: web.Response(
            body=b'{"Item": {"id": {"S": "d"}, "n": {"N": "2"}}}', headers={"x-amz-crc32": "1"}
        )
    )
    async with _client(faults.url) as client, _wire(client) as wire:
        assert await Table(client, name, None, wire).get({"id": "d"}) == {"id": "d", "n": 1}
    assert faults.received == 2


async def test_an_endpoint_that_does_not_answer_is_a_transient_error(
    no_waiting: list[int],
) -> None:
    async with _client("http://127.0.0.1:9") as client, _wire(client) as wire:
        with pytest.raises(EndpointConnectionError) as failed:
            await wire.call("GetItem", {"TableName": "t", "Key": {"id": {"S": "x"}}})
    assert is_transient(failed.value)
    assert no_waiting == [1, 2, 3]


def test_backoff_is_botocores_full_jitter() -> None:
    for attempt in (1, 2, 3, 8):
        delays = [backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= min(2 ** (attempt - 1), 20) for d in delays)
        assert max(delays) > min(2 ** (attempt - 1), 20) / 2


async def test_credentials_are_refreshed_before_they_expire(aws_endpoint: str) -> None:
    """Task-role credentials are refreshable: the wire asks the session's
    object each call, and it renews them when they are about to expire."""
    fetched: list[str] = []

    async def fetch() -> dict[str, str]:
        fetched.append("now")
        soon = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
        return {
            "access_key": f"ASIA{len(fetched)}",
            "secret_key": SECRET,
            "token": "session-token",
            "expiry_time": soon.isoformat(),  # within botocore's refresh window: renewed
        }

    credentials = AioRefreshableCredentials.create_from_metadata(
        await fetch(), refresh_using=fetch, method="container-role"
    )
    async with _client(aws_endpoint) as client:
        name = await _table(client)
        async with DynamoWire(client, credentials) as wire:
            await wire.call("GetItem", {"TableName": name, "Key": {"id": {"S": "x"}}})
    assert len(fetched) >= 2


async def test_each_call_is_told_to_the_observer(aws_endpoint: str) -> None:
    seen: list[tuple[str, str]] = []
    async with _client(aws_endpoint) as client:
        name = await _table(client)
        wire = DynamoWire(
            client,
            AioCredentials("k", "s"),
            observe=lambda operation, params: seen.append((operation, params["TableName"])),
        )
        async with wire:
            await Table(client, name, None, wire).get({"id": "x"})
    assert seen == [("GetItem", name)]


async def test_task_role_credentials_come_from_the_sessions_own_chain(
    aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On ECS the session finds the task role at the container credentials
    endpoint; the wire signs with what the session found, as its clients do."""
    asked: list[str] = []

    async def role(request: web.Request) -> web.Response:
        asked.append(request.headers.get("Authorization", ""))
        expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=6)
        return web.json_response(
            {
                "AccessKeyId": "ASIATASKROLE",
                "SecretAccessKey": SECRET,
                "Token": "task-role-token",
                "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    app = web.Application()
    app.router.add_get("/role", role)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{port}/role")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-agent-token")
    try:
        session = get_session()
        credentials = await session.get_credentials()
        assert credentials is not None
        assert credentials.method == "container-role"
        async with session.create_client(
            "dynamodb", endpoint_url=aws_endpoint, region_name=REGION, config=_CONFIG
        ) as client:
            name = await _table(client)
            async with DynamoWire(client, credentials) as wire:
                wire_headers: list[dict[str, str]] = []
                signing = wire.sign

                def noted(*args: Any) -> dict[str, str]:
                    wire_headers.append(signing(*args))
                    return wire_headers[-1]

                wire.sign = noted  # type: ignore[method-assign]
                await wire.call("GetItem", {"TableName": name, "Key": {"id": {"S": "x"}}})
    finally:
        await runner.cleanup()
    assert asked == ["ecs-agent-token"]  # fetched once: the client and the wire share it
    assert "Credential=ASIATASKROLE/" in wire_headers[0]["Authorization"]
    assert wire_headers[0]["X-Amz-Security-Token"] == "task-role-token"
