"""One aioboto3 session per process and one client per AWS API per app.

The clients are created in the app's lifespan and closed on shutdown; the
endpoint is the only thing that differs between the embedded moto server and
AWS. The session is the process's: a process that hosts several apps (the
local fleet host, the test harness) reads each API's model once, not once
per app.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import sysconfig
from contextlib import AsyncExitStack
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aioboto3
from aiobotocore.session import AioSession, get_session
from botocore.config import Config

from mindlinks_kit.dynamo_wire import DynamoWire
from mindlinks_kit.settings import ServiceSettings

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_events import EventBridgeClient
    from types_aiobotocore_kms import KMSClient
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_secretsmanager import SecretsManagerClient
    from types_aiobotocore_sqs import SQSClient

_CONFIG = Config(
    connect_timeout=2,
    # A stalled store must fail a request rather than hang it, yet a call
    # that is merely slow (an emulator under load) must not be retried early:
    # a retried write meets its own first attempt. 5 s proved too short in CI.
    read_timeout=15,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=50,
)
_SQS_CONFIG = _CONFIG.merge(Config(read_timeout=25))  # above SQS's 20 s long poll


_STDLIB = sysconfig.get_paths()["stdlib"]
_KEY_ALIAS = "mindlinks_key_alias"

NAMED_PARAMETERS = (
    "TableName",
    "IndexName",
    "QueueUrl",
    "QueueName",
    "Bucket",
    "SecretId",
    "Name",
    "GroupName",
    "KeyId",
)
"""The request parameters that name what a call touches (never its data)."""


def call_targets(params: dict[str, Any]) -> dict[str, Any]:
    """What an API call touches: names only, never items, bodies or secrets."""
    targets = {name: params[name] for name in NAMED_PARAMETERS if name in params}
    if "RequestItems" in params:  # BatchGetItem / BatchWriteItem
        targets["RequestItems"] = sorted(params["RequestItems"])
    if "TransactItems" in params:  # each item is authorised as its own action
        targets["TransactItems"] = sorted(
            {
                (kind, body["TableName"])
                for item in params["TransactItems"]
                for kind, body in item.items()
            }
        )
    if "Entries" in params and "QueueUrl" not in params:  # PutEvents (SQS batches have a QueueUrl)
        targets["EventBusNames"] = sorted(
            {str(e.get("EventBusName", "default")) for e in params["Entries"]}
        )
    return targets


def _library(filename: str) -> bool:
    return (
        filename.startswith(("<", _STDLIB))
        or "site-packages" in Path(filename).parts
        or "mindlinks_kit" in Path(filename).parts
    )


def made_by_a_test() -> bool:
    """Whether the nearest code behind this AWS call is a test's own (a file
    under ``tests/``, e.g. one that tampers with a table through a service's
    client) rather than the service's; the standard library, installed
    packages and this kit are looked through."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _library(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return False
    path = Path(frame.f_code.co_filename)
    return "tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py"


class CallLog:
    """Test instrumentation: appends each distinct AWS call that ``caller``
    makes (the operation and the names it touches) to a JSON-lines file in
    ``directory``. The suite then holds every call against the caller's IAM
    role, so the role and the code cannot drift apart unnoticed. A test's own
    calls through the service's clients are not the service's, and are left out."""

    def __init__(self, directory: str, fleet: str, caller: str, prefix: str) -> None:
        self.fleet = fleet
        self.caller = caller
        self.prefix = prefix
        self.path = Path(directory) / f"{caller}-{os.getpid()}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._seen: set[str] = set()

    def watch(self, client: Any) -> None:
        client.meta.events.register("provide-client-params", self._record)
        client.meta.events.register("after-call.kms", self._learn_key)

    def _write(self, row: dict[str, Any]) -> None:
        line = json.dumps(
            {"fleet": self.fleet, "caller": self.caller, "prefix": self.prefix, **row},
            sort_keys=True,
        )
        if line not in self._seen:
            self._seen.add(line)
            with self.path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")

    def _learn_key(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """Which key an alias named: IAM authorises a later call that names
        the key by its ARN (a decrypt of what was sealed) as that key's."""
        alias, key = context.get(_KEY_ALIAS), parsed.get("KeyId")
        if isinstance(alias, str) and alias.startswith("alias/") and key:
            self._write({"alias": alias, "key": key})

    def _record(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        context[_KEY_ALIAS] = params.get("KeyId")
        self.note(
            model.service_model.service_id.hyphenize(),
            model.name,
            params,
            presigned=bool(context.get("is_presign_request")),
        )

    def note(
        self, api: str, operation: str, params: dict[str, Any], *, presigned: bool = False
    ) -> None:
        """One call, made through a client or not (``DynamoWire``)."""
        if made_by_a_test():
            return
        self._write(
            {
                "api": api,
                "operation": operation,
                "presigned": presigned,
                "targets": call_targets(params),
            }
        )


@functools.cache
def botocore_session(region: str) -> AioSession:
    """The botocore session behind ``session(region)``: its credentials are
    the ones every client signs with (and refreshes, from a task role)."""
    return get_session()


@functools.cache
def session(region: str) -> aioboto3.Session:
    """The process's session for ``region``: its loader keeps every API model
    it has read (about 0.2 s of CPU for an app's six clients, the first time)."""
    return aioboto3.Session(botocore_session=botocore_session(region), region_name=region)


class Aws:
    """An app's AWS clients; open with ``async with Aws(settings) as aws``.
    ``caller`` is the service and ``fleet`` its fleet (its calls are recorded
    under those names when ``settings.aws_call_log`` is set). ``s3``: open an
    S3 client (a service that declares buckets); without it there is no
    ``s3`` attribute — S3's API model is 6 MiB of every process that holds one."""

    dynamodb: DynamoDBClient
    sqs: SQSClient
    events: EventBridgeClient
    s3: S3Client
    secrets: SecretsManagerClient
    kms: KMSClient
    scheduler: Any
    """EventBridge Scheduler (only with ``scheduler=True``: a service with timers)."""
    dynamo_wire: DynamoWire
    """DynamoDB's hot reads without the SDK's per-call machinery (same
    endpoint, credentials, config, errors as ``dynamodb``)."""

    def __init__(
        self,
        settings: ServiceSettings,
        caller: str,
        fleet: str,
        *,
        s3: bool = True,
        scheduler: bool = False,
    ) -> None:
        self.settings = settings
        self._with_s3 = s3
        self._with_scheduler = scheduler
        self.session = session(settings.aws_region)
        self._stack = AsyncExitStack()
        self._log = (
            CallLog(settings.aws_call_log, fleet, caller, settings.resource_prefix)
            if settings.aws_call_log and settings.local_mode
            else None
        )

    def _client_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"config": _CONFIG, "region_name": self.settings.aws_region}
        if self.settings.aws_endpoint_url:
            args["endpoint_url"] = self.settings.aws_endpoint_url
            if urlsplit(self.settings.aws_endpoint_url).scheme == "http":
                # No TLS, nothing to verify: spares each client reading the CA
                # bundle on its first call (60 ms of CPU, 66 times in a fleet).
                args["verify"] = False
        return args

    def _s3_args(self, args: dict[str, Any]) -> dict[str, Any]:
        # SigV4 (S3 refuses SigV2 presigned policies on buckets created since 2020)
        # and the regional endpoint, so presigned URLs work as issued.
        s3_config = _CONFIG.merge(
            Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if self.settings.aws_endpoint_url else "virtual"},
            )
        )
        s3_args = {**args, "config": s3_config}
        s3_args.setdefault("endpoint_url", f"https://s3.{self.settings.aws_region}.amazonaws.com")
        return s3_args

    async def __aenter__(self) -> Aws:
        enter = self._stack.enter_async_context
        args = self._client_args()
        self.dynamodb = await enter(self.session.client("dynamodb", **args))
        credentials = await botocore_session(self.settings.aws_region).get_credentials()
        log = self._log
        self.dynamo_wire = await enter(
            DynamoWire(
                self.dynamodb,
                credentials,
                observe=None if log is None else functools.partial(log.note, "dynamodb"),
            )
        )
        self.sqs = await enter(self.session.client("sqs", **{**args, "config": _SQS_CONFIG}))
        self.events = await enter(self.session.client("events", **args))
        if self._with_s3:
            self.s3 = await enter(self.session.client("s3", **self._s3_args(args)))
        self.secrets = await enter(self.session.client("secretsmanager", **args))
        self.kms = await enter(self.session.client("kms", **args))
        if self._with_scheduler:
            self.scheduler = await enter(self.session.client("scheduler", **args))
        if self._log is not None:
            for client in (self.dynamodb, self.sqs, self.events, self.secrets, self.kms):
                self._log.watch(client)
            if self._with_s3:
                self._log.watch(self.s3)
            if self._with_scheduler:
                self._log.watch(self.scheduler)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def secret(self, name: str) -> str:
        """A Secrets Manager string secret by its unprefixed name."""
        response = await self.secrets.get_secret_value(SecretId=self.settings.physical(name))
        return response["SecretString"]
