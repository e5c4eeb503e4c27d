"""RFC 9457 problem details: one root error, one renderer.

Domain code raises a ``Problem`` subclass; the app factory renders every error
(validation, routing, unexpected) as ``application/problem+json`` with a stable
``type`` and ``code`` and never a stack trace or internal detail.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://api.mindlinks.com/problems/"
PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499
"""nginx's code for a caller that left before it sent its request whole."""


class Problem(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        self.headers: dict[str, str] = {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        return problem_body(
            self.status, self.code, self.title, self.detail, instance, **self.extensions
        )


def problem_body(
    status: int, code: str, title: str, detail: str, instance: str | None = None, **extensions: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return body


class InvalidInput(Problem):
    status = 422
    code = "invalid-input"
    title = "The request is not valid"


class Unauthorized(Problem):
    status = 401
    code = "unauthorized"
    title = "Authentication is required"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["WWW-Authenticate"] = "Bearer"


class Forbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(Problem):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class Contention(Conflict):
    """A commit lost a race with a concurrent change to *other* data than the
    request names (a sibling item): the request itself is valid, so
    ``Idempotency.run`` runs it again at once, a few times, before the caller
    hears the 409."""


class TooManyRequests(Problem):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, retry_after: int = 1, **ext: Any) -> None:
        super().__init__(detail, **ext)
        self.headers["Retry-After"] = str(retry_after)


class PeerUnavailable(Problem):
    status = 503
    code = "peer-unavailable"
    title = "A service this request depends on is unavailable"


class DependencyUnavailable(Problem):
    """A store or queue of ours (DynamoDB, SQS, EventBridge, S3, Redis) did
    not answer: nothing is wrong with the request, so the caller may retry."""

    status = 503
    code = "dependency-unavailable"
    title = "A store this service depends on is unavailable"
    retry_after = 2

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["Retry-After"] = str(self.retry_after)


AWS_TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
    }
)
"""AWS error codes that say "not now" rather than "not this"."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is a store or queue
    that did not answer (connection refused or dropped, a timeout, AWS
    throttling) rather than a bug."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as AwsConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AwsConnectionError | HTTPClientError) or _redis_outage(current):
            return True
        if isinstance(current, ClientError):
            return current.response.get("Error", {}).get("Code") in AWS_TRANSIENT_CODES
        current = current.__cause__ or current.__context__
    return False


_REDIS_OUTAGES = frozenset(
    {("redis.exceptions", "ConnectionError"), ("redis.exceptions", "TimeoutError")}
)


def _redis_outage(exc: BaseException) -> bool:
    """A redis connection error or timeout (or a subclass), recognised by its
    class's name: importing redis to compare classes would load it into every
    service, and only auth and notification use it."""
    return any((kind.__module__, kind.__qualname__) in _REDIS_OUTAGES for kind in type(exc).__mro__)


class PeerRefused(Problem):
    """A peer's refusal (4xx), passed on as what it means for our caller:
    the peer's status for "not found", "conflict" and "invalid", 502 for a
    refusal that is ours to fix (the peer refused our token, or a route we
    called wrongly). Built by ``mindlinks_kit.http.refusal``."""

    status = 502
    code = "peer-error"
    title = "A service this request depends on gave an unexpected answer"

    def __init__(self, detail: str, *, answer: tuple[int, str, str], **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.answer = answer
        """(status, code, title) our caller gets."""
        self.peer_status: int | None = None
        self.peer_code: str | None = None
        """What the peer itself answered, for a caller that gives it a meaning."""

    def body(self, instance: str | None = None) -> dict[str, Any]:
        status, code, title = self.answer
        return problem_body(status, code, title, self.detail, instance, **self.extensions)


class NotReady(Problem):
    status = 503
    code = "not-ready"
    title = "The service is not ready"


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(routes: Any, scope: Any) -> str:
    """``Allow`` for a path: every method some route takes there, not only the
    first matching route's (Starlette's own 405 names one route's methods, so
    ``GET`` and ``PATCH`` on one path, as two routes, would hide each other).
    Asked of the routes themselves (``matches``), so included routers count.
    Only the most specific paths count, as in the OpenAPI: ``/templates``
    answers its own methods, not those of a ``/{id}`` that would also match."""
    from starlette.routing import Match

    def takes(route: Any, method: str) -> bool:
        return bool(route.matches({**scope, "method": method})[0] is Match.FULL)

    def fixed(route: Any) -> int:
        return sum(1 for part in str(getattr(route, "path", "")).split("/") if "{" not in part)

    def flat(found: Any) -> Any:
        for route in found:
            inner = getattr(route, "original_router", None)  # included lazily
            yield from flat(inner.routes) if inner is not None else (route,)

    matching = [r for r in flat(routes) if any(takes(r, m) for m in _METHODS)]
    if not matching:
        return ""
    best = max(fixed(r) for r in matching)
    chosen = [r for r in matching if fixed(r) == best]
    return ", ".join(m for m in _METHODS if any(takes(r, m) for r in chosen))


def install_handlers(app: Any, *, redis: bool = False) -> None:
    """Render every error as problem+json; nothing internal leaks. ``redis``:
    the app uses Redis, so its errors are answered like AWS's (imported only then)."""
    import structlog
    from botocore.exceptions import BotoCoreError, ClientError
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect

    log = structlog.get_logger("mindlinks.errors")

    def respond(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(
            body, status_code=body["status"], headers=headers, media_type=PROBLEM_JSON
        )

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return respond(exc.body(request.url.path), exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "location": [str(part) for part in error.get("loc", ())],
                "message": error.get("msg", ""),
                "type": error.get("type", ""),
            }
            for error in exc.errors()
        ]
        return respond(
            InvalidInput("Some fields are missing or invalid", errors=errors).body(request.url.path)
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        codes = {
            404: ("not-found", "Not found"),
            405: ("method-not-allowed", "Method not allowed"),
            401: ("unauthorized", "Authentication is required"),
            403: ("forbidden", "Not allowed"),
        }
        code, title = codes.get(exc.status_code, ("http-error", "Request failed"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request.app.router.routes, request.scope)
            detail = f"{request.method} is not allowed here; use {headers['Allow']}"
        return respond(
            problem_body(exc.status_code, code, title, detail, request.url.path), headers
        )

    async def on_client_gone(request: Request, exc: Exception) -> JSONResponse:
        # The caller left before its body arrived (it timed out): nobody reads
        # this answer, and it is not our error to count or page on.
        log.info("request.client_gone", path=request.url.path)
        gone = problem_body(
            CLIENT_CLOSED_REQUEST,
            "client-closed-request",
            "The client closed the request",
            "The request body did not arrive",
            request.url.path,
        )
        return respond(gone)

    def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("request.dependency_unavailable", path=request.url.path, error=repr(exc))
        problem = DependencyUnavailable("A store did not answer; retry shortly")
        return respond(problem.body(request.url.path), problem.headers)

    async def on_store_error(request: Request, exc: Exception) -> JSONResponse:
        # Registered by class, so a transient one is answered here and not
        # re-raised to the server as an unhandled error (a traceback per 503).
        if is_transient(exc):
            return unavailable(request, exc)
        return await on_unexpected(request, exc)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):  # wrapped in an error of ours
            return unavailable(request, exc)
        log.exception("request.failed", path=request.url.path)
        return respond(
            problem_body(
                500,
                "internal",
                "Internal error",
                "Something went wrong on our side",
                request.url.path,
            )
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_client_gone)
    for store_error in (BotoCoreError, ClientError):
        app.add_exception_handler(store_error, on_store_error)
    if redis:
        from redis.exceptions import RedisError

        app.add_exception_handler(RedisError, on_store_error)
    app.add_exception_handler(Exception, on_unexpected)
