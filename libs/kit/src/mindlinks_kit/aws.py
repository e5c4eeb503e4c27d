"""One aioboto3 session and one client per AWS API per process.

Created in the app's lifespan, closed on shutdown; the endpoint is the only
thing that differs between the embedded moto server and AWS.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import aioboto3
from botocore.config import Config

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


class Aws:
    """The process's AWS clients; open with ``async with Aws(settings) as aws``."""

    dynamodb: DynamoDBClient
    sqs: SQSClient
    events: EventBridgeClient
    s3: S3Client
    secrets: SecretsManagerClient
    kms: KMSClient

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.session = aioboto3.Session(region_name=settings.aws_region)
        self._stack = AsyncExitStack()

    def _client_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"config": _CONFIG, "region_name": self.settings.aws_region}
        if self.settings.aws_endpoint_url:
            args["endpoint_url"] = self.settings.aws_endpoint_url
        return args

    async def __aenter__(self) -> Aws:
        enter = self._stack.enter_async_context
        args = self._client_args()
        self.dynamodb = await enter(self.session.client("dynamodb", **args))
        self.sqs = await enter(self.session.client("sqs", **{**args, "config": _SQS_CONFIG}))
        self.events = await enter(self.session.client("events", **args))
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
        self.s3 = await enter(self.session.client("s3", **s3_args))
        self.secrets = await enter(self.session.client("secretsmanager", **args))
        self.kms = await enter(self.session.client("kms", **args))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def secret(self, name: str) -> str:
        """A Secrets Manager string secret by its unprefixed name."""
        response = await self.secrets.get_secret_value(SecretId=self.settings.physical(name))
        return response["SecretString"]
