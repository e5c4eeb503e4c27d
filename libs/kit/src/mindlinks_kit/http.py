"""Discovery and the resilient HTTP client every service uses to call its peers.

A service names its peer (``"notification"``), never a URL: one template maps
the name to a base URL (AWS Cloud Map, compose, loopback). Every call gets a
timeout, retries with jittered exponential backoff (only when repeating it is
safe), a circuit breaker per peer, a service token, and the caller's
correlation id, trace context and user token.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar, overload

import httpx
import structlog
from opentelemetry import propagate
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from mindlinks_kit.breaker import AsyncBreaker, CircuitOpen
from mindlinks_kit.context import current
from mindlinks_kit.declaration import EVERY_SERVICE, Call, Lookup, Route
from mindlinks_kit.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PeerRefused,
    PeerUnavailable,
    Problem,
)
from mindlinks_kit.middleware import CORRELATION_HEADER

log = structlog.get_logger("mindlinks.http")
USER_TOKEN_HEADER = "x-user-authorization"  # noqa: S105 - a header name
IDEMPOTENCY_HEADER = "idempotency-key"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
A = TypeVar("A")
Refusal = Callable[[str, httpx.Response], Exception]


_PASSED_ON: dict[int, type[Problem]] = {
    400: InvalidInput,
    404: NotFound,
    409: Conflict,
    410: Conflict,
    422: InvalidInput,
}
"""A peer's refusal that is about what our caller asked → the same meaning for
our caller. Anything else (401/403: our credential; an unexpected 2xx/3xx) is
ours to fix (502), never ``peer-unavailable`` (503): 5xx alarms stay true."""
_PEER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def refusal(peer: str, response: httpx.Response) -> Problem:
    """What a peer's answer that the caller did not expect means for our caller
    (raise it): 404 → 404, 409/410 → 409, 400/422 → 422, with the peer's own
    ``code`` and ``detail`` when it sent a problem; 429 → 503 (the peer sheds
    load); anything else → 502 ``peer-error``."""
    status = response.status_code
    code, detail = peer_problem(response)
    if status == 429:
        return PeerUnavailable(f"{peer} is overloaded", peer=peer, reason="throttled")
    passed_on = _PASSED_ON.get(status)
    if passed_on is None:
        refused = PeerRefused(
            f"{peer} answered {status}" + (f" ({code})" if code else ""),
            answer=(PeerRefused.status, PeerRefused.code, PeerRefused.title),
            peer=peer,
        )
    else:
        refused = PeerRefused(
            detail or passed_on.title,
            answer=(passed_on.status, code or passed_on.code, passed_on.title),
            peer=peer,
        )
    refused.peer_status, refused.peer_code = status, code
    return refused


def unreadable(peer: str, what: str) -> PeerRefused:
    """A 2xx answer that is not what the route declares: ours to fix (502)."""
    return PeerRefused(
        f"{peer} gave an unreadable answer ({what})",
        answer=(PeerRefused.status, PeerRefused.code, PeerRefused.title),
        peer=peer,
    )


def _declared_refusal(route: Route[Any], response: httpx.Response) -> Problem | None:
    """The route's declared refusal the peer answered, with the peer's detail."""
    code, detail = peer_problem(response)
    for declared in route.refusals:
        if (declared.status, declared.code) == (response.status_code, code):
            return declared(detail)
    return None


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _read(
    route: Route[A], peer: str, response: httpx.Response, unread: Callable[[str, str], Exception]
) -> A:
    if route.answer is bytes:
        return response.content  # type: ignore[return-value]  # A is bytes here
    adapter = _ADAPTERS.get(route.answer)
    if adapter is None:
        adapter = _ADAPTERS[route.answer] = TypeAdapter(route.answer)
    try:
        answer: A = adapter.validate_json(response.content)
    except ValidationError as exc:
        raise unread(peer, f"not a {getattr(route.answer, '__name__', 'answer')}") from exc
    return answer


def peer_problem(response: httpx.Response) -> tuple[str | None, str | None]:
    """The peer's problem ``code`` and ``detail``, when it sent a readable one."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code, detail = body.get("code"), body.get("detail")
    return (
        code if isinstance(code, str) and _PEER_CODE.match(code) else None,
        detail[:500] if isinstance(detail, str) else None,
    )


class _Retryable(Exception):
    def __init__(self, reason: str, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.response = response


class ServiceTokens:
    """This service's own short-lived service token, minted on demand and cached."""

    def __init__(self, mint: Callable[[], Awaitable[tuple[str, float]]]) -> None:
        self._mint = mint
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        if self._token and time.time() < self._expires_at - 60:
            return self._token
        async with self._lock:
            if not self._token or time.time() >= self._expires_at - 60:
                self._token, self._expires_at = await self._mint()
        return self._token


class Peers:
    def __init__(
        self,
        *,
        template: str,
        ports: Mapping[str, int],
        allowed: Collection[str],
        client: httpx.AsyncClient,
        timeout: float = 5.0,
        attempts: int = 3,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
        service: str = "",
    ) -> None:
        self.service = service
        """Who calls (checked against each declared route's callers)."""
        self.refusal: Refusal = refusal
        self.unreadable: Callable[[str, str], Exception] = unreadable
        """What a declared call raises for a refusal and for an answer that is
        not the declared model (a caller may pass them on its own way, as the
        admin does)."""
        self.template = template
        self.ports = ports
        self.allowed = frozenset(allowed)
        self.client = client
        self.timeout = timeout
        self.attempts = attempts
        self.tokens: ServiceTokens | None = None
        self.breakers = {name: AsyncBreaker(name, fail_max, reset_timeout) for name in allowed}
        self._mounted: dict[str, httpx.AsyncClient] = {}

    def url(self, name: str) -> str:
        return self.template.format(name=name, port=self.ports[name])

    def mount(self, name: str, transport: httpx.AsyncBaseTransport) -> None:
        """Route a peer to an in-process transport (tests: the peer's real ASGI app)."""
        self._mounted[name] = httpx.AsyncClient(transport=transport)

    async def aclose(self) -> None:
        for client in self._mounted.values():
            await client.aclose()

    def breaker_states(self) -> dict[str, str]:
        return {name: breaker.state for name, breaker in self.breakers.items()}

    async def request(
        self,
        peer: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        authenticate: bool = True,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> httpx.Response:
        """Call a peer with a JSON body (``json``) or raw bytes (``content`` and
        ``content_type``). Returns any response below 500; raises ``PeerUnavailable``
        (a 503 problem whose ``reason`` is ``circuit-open``, ``timeout``,
        ``connection-failed`` or ``server-error``) when the peer is down, times
        out or its breaker is open. ``attempts`` overrides the retry budget
        (a probe that must answer within a deadline tries once)."""
        if peer not in self.allowed:
            raise ValueError(f"{peer!r} is not a declared peer of this service")
        method = method.upper()
        headers = await self.headers(idempotency_key, authenticate)
        if content_type is not None:
            headers["content-type"] = content_type
        client = self._mounted.get(peer, self.client)
        url = self.url(peer) + path
        breaker = self.breakers[peer]

        deadline = timeout or self.timeout

        async def once() -> httpx.Response:
            try:
                # httpx's timeouts are per phase; the deadline bounds the whole call.
                async with asyncio.timeout(deadline):
                    response = await client.request(
                        method,
                        url,
                        json=json,
                        content=content,
                        params=params,
                        headers=headers,
                        timeout=deadline,
                    )
            except (httpx.TimeoutException, TimeoutError) as exc:
                raise _Retryable("timeout") from exc
            except httpx.TransportError as exc:
                raise _Retryable("connection-failed") from exc
            if response.status_code >= 500:
                raise _Retryable("server-error", response)
            return response

        repeatable = method in _IDEMPOTENT_METHODS or idempotency_key is not None
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt((attempts or self.attempts) if repeatable else 1),
                wait=wait_exponential_jitter(multiplier=0.1, max=2.0, jitter=0.1),
                retry=retry_if_exception_type(_Retryable),
                reraise=True,
            ):
                with attempt:
                    return await breaker.call(once)
        except CircuitOpen:
            log.warning("peer.breaker_open", peer=peer)
            raise PeerUnavailable(
                f"{peer} is unavailable (circuit open)", peer=peer, reason="circuit-open"
            ) from None
        except _Retryable as exc:
            log.warning("peer.unavailable", peer=peer, reason=str(exc))
            raise PeerUnavailable(
                f"{peer} is unavailable ({str(exc).replace('-', ' ')})", peer=peer, reason=str(exc)
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @overload
    async def call(
        self,
        route: Lookup[A],
        *parameters: str,
        peer: str | None = None,
        body: BaseModel | bytes | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> A | None: ...

    @overload
    async def call(
        self,
        route: Call[A],
        *parameters: str,
        peer: str | None = None,
        body: BaseModel | bytes | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> A: ...

    async def call(
        self,
        route: Route[A],
        *parameters: str,
        peer: str | None = None,
        body: BaseModel | bytes | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> A | None:
        """Call a declared internal route: ``parameters`` fill its path in
        order; the answer is read as the declared model (``None`` for a
        ``Lookup``'s 404); any other refusal raises ``self.refusal(...)``.
        ``peer`` names the service for a route every service mounts."""
        if not route.allows(self.service):
            raise ValueError(f"{self.service} is not a declared caller of {route.path}")
        target = route.owner if route.owner != EVERY_SERVICE else peer
        if target is None:
            raise ValueError(f"{route.path} is mounted by every service: name the peer")
        path = route.fill(*parameters)
        if isinstance(body, BaseModel):
            if route.body is None or not isinstance(body, route.body):
                raise TypeError(f"{route.path} takes {route.body}, not {type(body).__name__}")
            json: Any = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
            content, content_type = None, None
        else:
            json, content, content_type = None, body, route.content_type
        response = await self.request(
            target,
            route.method,
            path,
            json=json,
            content=content,
            content_type=content_type,
            params=params,
            idempotency_key=idempotency_key,
            authenticate=route.authenticated,
            timeout=timeout,
            attempts=attempts,
        )
        if response.status_code == 404 and isinstance(route, Lookup):
            return None
        if not 200 <= response.status_code < 300:
            raise _declared_refusal(route, response) or self.refusal(target, response)
        return _read(route, target, response, self.unreadable)

    async def headers(
        self, idempotency_key: str | None = None, authenticate: bool = True
    ) -> dict[str, str]:
        """What every outbound call carries: trace context, correlation id,
        the user's token beside ours, an idempotency key, our service token."""
        headers: dict[str, str] = {}
        propagate.inject(headers)
        ctx = current.get()
        if ctx is not None:
            headers[CORRELATION_HEADER] = ctx.correlation_id
            if ctx.user_token:
                headers[USER_TOKEN_HEADER] = f"Bearer {ctx.user_token}"
        if idempotency_key:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        if authenticate:
            if self.tokens is None:
                raise RuntimeError("service tokens are not configured")
            headers["authorization"] = f"Bearer {await self.tokens.get()}"
        return headers
