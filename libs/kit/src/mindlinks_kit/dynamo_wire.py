"""DynamoDB's hot reads (GetItem, BatchGetItem, Query, Scan) sent as the JSON
requests they are, without the SDK's per-call machinery.

aiobotocore spends about 0.9 ms of CPU on one GetItem: it rebuilds the
user-agent, runs a dozen event hooks, resolves the endpoint through the rules
engine, signs through a generic request object and parses through the service
model. A read here costs about half of that (docs/adr/0009-hot-dynamodb-reads.md).
What must not differ from the SDK is taken from it: the credentials are the
session's own object (ECS task-role credentials refresh in it); the signature
is the one botocore's ``SigV4Auth`` makes (the tests compare them); the
endpoint, timeouts and attempts are the client's; errors are the client's
exception classes; retries follow botocore's standard mode (which errors,
full-jitter backoff, the retry quota). Writes stay on the SDK: they are rarer,
and transactions need its cancellation-reason parsing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import ssl
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import ProxyConfiguration, get_cert_path
from botocore.retries.quota import RetryQuota

if TYPE_CHECKING:
    from aiobotocore.credentials import AioCredentials, AioRefreshableCredentials
    from botocore.credentials import ReadOnlyCredentials
    from types_aiobotocore_dynamodb import DynamoDBClient

Observer = Callable[[str, dict[str, Any]], None]
"""Told of each call (operation, parameters) before it is sent: the test call log."""

_TARGET = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"

# botocore.retries.standard: what its standard mode retries (the lists are
# private there, so they are repeated here; they have not changed since 2020).
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
_MAX_BACKOFF = 20.0
_RETRY_COST, _TIMEOUT_RETRY_COST, _NO_RETRY_INCREMENT = 5, 10, 1


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2…): botocore's truncated
    binary exponential backoff with full jitter."""
    return min(random.random() * 2.0 ** (attempt - 1), _MAX_BACKOFF)  # noqa: S311 - jitter


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _host(url: str) -> str:
    """The Host header botocore signs: no port where it is the scheme's default."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _blob(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _blobs_decoded(value: Any) -> Any:
    """Binary attribute values (``{"B": base64}``, ``{"BS": [...]}``) as bytes,
    what ``TypeDeserializer`` expects and botocore's parser hands it."""
    if isinstance(value, dict):
        if len(value) == 1:
            if isinstance(value.get("B"), str):
                return {"B": base64.b64decode(value["B"])}
            if isinstance(value.get("BS"), list):
                return {"BS": [base64.b64decode(b) for b in value["BS"]]}
        return {k: _blobs_decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blobs_decoded(v) for v in value]
    return value


class _Retryable(Exception):
    """An attempt that may be repeated; ``error`` is raised if none is left."""

    def __init__(self, error: Exception, *, timeout: bool = False) -> None:
        self.error = error
        self.timeout = timeout


class DynamoWire:
    """Sends DynamoDB JSON requests for ``client``'s endpoint, region, config
    and exceptions, signed with ``credentials`` (the client's session's).
    Open with ``async with``: it holds its own connection pool."""

    def __init__(
        self,
        client: DynamoDBClient,
        credentials: AioCredentials | AioRefreshableCredentials | None,
        *,
        observe: Observer | None = None,
    ) -> None:
        meta = client.meta
        if urlsplit(meta.endpoint_url).path.strip("/"):
            # The signature below is for POST / only; DynamoDB's endpoints have no path.
            raise ValueError(f"a DynamoDB endpoint has no path: {meta.endpoint_url}")
        self.endpoint = meta.endpoint_url.rstrip("/") + "/"
        self.region = meta.region_name
        self.exceptions = client.exceptions
        self.credentials = credentials
        self.observe = observe
        config: Any = meta.config
        # botocore turns the configured max_attempts (retries) into this (calls).
        self.attempts = int((config.retries or {}).get("total_max_attempts", 3))
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=config.connect_timeout, sock_read=config.read_timeout
        )
        self._pool = int(config.max_pool_connections)
        # The proxy botocore would use (its config, else HTTPS_PROXY/NO_PROXY),
        # found once: aiohttp's trust_env looks it up in a thread per request.
        self._proxy = ProxyConfiguration(
            proxies=config.proxies, proxies_settings=config.proxies_config
        ).proxy_url_for(self.endpoint)
        self._quota = RetryQuota()
        self._http: aiohttp.ClientSession | None = None
        self._host = _host(self.endpoint)
        self._key: tuple[str, str, bytes] = ("", "", b"")

    async def __aenter__(self) -> DynamoWire:
        tls: ssl.SSLContext | bool = False
        if self.endpoint.startswith("https:"):
            # The CA bundle botocore verifies against (certifi's, if installed).
            tls = ssl.create_default_context(cafile=get_cert_path(True))
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool, ssl=tls),
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One API call, e.g. ``call("GetItem", {"TableName": …})``: its
        response document, or the client's exception for the error DynamoDB
        answered (``ClientError`` subclasses, as from the SDK)."""
        if self.observe is not None:
            self.observe(operation, params)
        body = json.dumps(params, default=_blob).encode()
        headers = {"X-Amz-Target": _TARGET + operation, "Content-Type": _CONTENT_TYPE}
        attempt = 1
        acquired = 0
        while True:
            try:
                answer = await self._attempt(operation, body, headers, attempt)
            except _Retryable as retry:
                cost = _TIMEOUT_RETRY_COST if retry.timeout else _RETRY_COST
                if attempt >= self.attempts or not self._quota.acquire(cost):
                    raise retry.error from None
                acquired = cost
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                continue
            self._quota.release(acquired or _NO_RETRY_INCREMENT)
            return answer

    async def _attempt(
        self, operation: str, body: bytes, headers: dict[str, str], attempt: int
    ) -> dict[str, Any]:
        signed = self.sign(await self._frozen(), body, headers, _utcnow())
        status, answer, received = await self._send(signed, body)
        crc = received.get("x-amz-crc32")
        if crc is not None and zlib.crc32(answer) != int(crc):
            raise _Retryable(
                HTTPClientError(error=f"DynamoDB answer's CRC32 is not {crc} (a damaged body)")
            )
        if status < 300:
            document: dict[str, Any] = json.loads(answer)
            if b'{"B' in answer:  # no binary value (or attribute named B…), no walk
                document = _blobs_decoded(document)
            return document
        error = self._error(operation, status, answer, received, attempt)
        code = error.response["Error"]["Code"]
        if code in THROTTLED or code in TRANSIENT or status in _TRANSIENT_STATUS:
            raise _Retryable(error)
        raise error

    async def _frozen(self) -> Any:
        if self.credentials is None:
            raise NoCredentialsError()
        # Refreshes them first when they are about to expire (task-role ones).
        return await self.credentials.get_frozen_credentials()

    def sign(
        self, credentials: ReadOnlyCredentials, body: bytes, headers: dict[str, str], now: datetime
    ) -> dict[str, str]:
        """``headers`` with SigV4's: what botocore's ``SigV4Auth`` computes for
        this one shape of request (POST to ``/``, no query; the tests hold the
        two equal), for a fraction of its CPU: it keeps the day's signing key."""
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        signed = {**headers, "X-Amz-Date": stamp}
        if credentials.token:
            signed["X-Amz-Security-Token"] = credentials.token
        canonical = {k.lower(): " ".join(str(v).split()) for k, v in signed.items()}
        canonical["host"] = self._host
        names = sorted(canonical)
        request = "\n".join(
            (
                "POST\n/\n",  # the method, the path, no query string
                *(f"{name}:{canonical[name]}" for name in names),
                "",
                ";".join(names),
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{day}/{self.region}/dynamodb/aws4_request"
        digest = hashlib.sha256(request.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
        key = self._signing_key(credentials.secret_key or "", day)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        signed["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return signed

    def _signing_key(self, secret: str, day: str) -> bytes:
        if self._key[:2] != (secret, day):
            key = f"AWS4{secret}".encode()
            for part in (day, self.region, "dynamodb", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key = (secret, day, key)
        return self._key[2]

    async def _send(
        self, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, Mapping[str, str]]:
        assert self._http is not None, "open the wire with async with"
        url = self.endpoint
        headers["Accept-Encoding"] = "identity"  # unsigned, as botocore adds it
        try:
            async with self._http.post(
                url, data=body, headers=headers, proxy=self._proxy
            ) as response:
                answer = await response.read()
                return response.status, answer, response.headers  # case-insensitive
        except aiohttp.ClientSSLError as exc:
            raise _Retryable(SSLError(endpoint_url=url, error=exc)) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            error: Exception = ConnectionClosedError(endpoint_url=url, error=exc)
            raise _Retryable(error) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            timed_out: Exception = ConnectTimeoutError(endpoint_url=url, error=exc)
            raise _Retryable(timed_out, timeout=True) from exc
        except aiohttp.ServerTimeoutError as exc:  # before its base, ClientConnectionError
            timed_out = ReadTimeoutError(endpoint_url=url, error=exc)
            raise _Retryable(timed_out, timeout=True) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise _Retryable(EndpointConnectionError(endpoint_url=url, error=exc)) from exc
        except TimeoutError as exc:  # aiohttp's read timeout is one too
            raise _Retryable(ReadTimeoutError(endpoint_url=url, error=exc), timeout=True) from exc

    def _error(
        self, operation: str, status: int, answer: bytes, received: Mapping[str, str], attempt: int
    ) -> ClientError:
        """The client's exception for an error answer, shaped as botocore's
        JSON parser shapes it (``Error.Code`` without the namespace)."""
        try:
            document = json.loads(answer) if answer else {}
        except ValueError:
            document = {}
        if not isinstance(document, dict):
            document = {}
        code = str(document.get("__type") or status).rpartition("#")[2]
        message = document.get("message") or document.get("Message") or ""
        response: dict[str, Any] = {
            **{k: v for k, v in document.items() if k not in ("__type", "message", "Message")},
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "RequestId": received.get("x-amzn-requestid", ""),
                "HTTPStatusCode": status,
                "HTTPHeaders": {k.lower(): v for k, v in received.items()},
                "RetryAttempts": attempt - 1,
            },
        }
        exception: Any = self.exceptions.from_code(code)
        raised: ClientError = exception(response, operation)
        return raised
