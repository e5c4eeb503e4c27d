"""``create_app``: one call gives a service its settings-driven wiring —
lifespan-managed clients, problem+json errors, request middleware, telemetry,
health, token verification, peers, outbox relay and event consumer."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request

from mindlinks_kit.auth import JwksKeys, TokenVerifier
from mindlinks_kit.aws import Aws
from mindlinks_kit.declaration import Fleet
from mindlinks_kit.dynamo import CursorCodec, Table, UnitOfWork
from mindlinks_kit.errors import install_handlers
from mindlinks_kit.events.consumer import Consumer, Handler, is_replay_safe, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.events.outbox import Outbox, Relay
from mindlinks_kit.health import health
from mindlinks_kit.http import Peers, ServiceTokens
from mindlinks_kit.internal import api_routes, check_mounted
from mindlinks_kit.middleware import RequestMiddleware
from mindlinks_kit.observability import Metrics, configure_logging, configure_tracing
from mindlinks_kit.openapi import PROBLEM_RESPONSES, document_problems
from mindlinks_kit.operations import operations
from mindlinks_kit.revocations import Revocations
from mindlinks_kit.runtime import Runtime, remote_service_token
from mindlinks_kit.settings import ServiceSettings
from mindlinks_kit.tenancy import Members, declared_actions, peer_source
from mindlinks_kit.timer_schedules import SCHEDULE_GROUP, TimerSchedules
from mindlinks_kit.timers import TimerHandler, Timers

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger("mindlinks.app")
Setup = Callable[[Runtime], Awaitable[Any]]
Handlers = Callable[[Any], Mapping[str, Handler]]
TimerHandlers = Callable[[Any], Mapping[str, TimerHandler]]
Background = Callable[[Any], Mapping[str, Callable[[], Coroutine[Any, Any, None]]]]


REDIS_TIMEOUT_SECONDS = 5.0
"""Every Redis call here is a single quick command: one that has not
answered by now will not, and must not hold the request (2 s proved too
tight for a CPU-starved process under ``make chaos``)."""


async def service_deps(request: Request) -> Any:
    """What the service's ``setup`` returned, as a route dependency; each
    service names its type once: ``Deps = Annotated[XDeps, Depends(service_deps)]``.
    ``async``: a sync dependency costs a threadpool hop per request."""
    return request.app.state.deps


async def _transaction(request: Request) -> AsyncIterator[UnitOfWork]:
    runtime: Runtime = request.app.state.runtime
    uow = runtime.uow()
    yield uow  # an exception from the route is raised here: nothing is committed
    await uow.commit()


Transaction = Annotated[UnitOfWork, Depends(_transaction, scope="function")]
"""A unit of work for the route's writes, committed once the route has
returned without error and before the response is sent (``scope="function"``;
the default scope would commit after sending): a 2xx means committed, and a
failed commit (a lost race, 409) is the response instead."""


@functools.cache
def tls() -> ssl.SSLContext:
    """The process's TLS context for outgoing HTTPS: building one reads the CA
    bundle (about 50 ms of CPU), once however many apps the process hosts."""
    return httpx.create_ssl_context()


def redis_client(url: str) -> Redis:
    # Imported here: only the services declared with Redis load it (0.2 s).
    from redis.asyncio import Redis

    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )


def create_app(
    *,
    fleet: Fleet,
    service: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    dev_routers: Sequence[APIRouter] = (),
    setup: Setup | None = None,
    handlers: Handlers | None = None,
    timers: TimerHandlers | None = None,
    background: Background | None = None,
    description: str = "",
) -> FastAPI:
    """Build a service's app. ``setup(runtime)`` returns the service's own
    dependencies (stored as ``app.state.deps``); ``handlers(deps)`` maps each
    consumed event to its handler and must match the fleet declaration, as
    ``timers(deps)`` must for each declared timer; ``background(deps)``
    names the service's own long-running tasks (run, like the relay and
    consumer, only with ``background_workers``)."""
    configure_logging(service, settings.log_level)
    tracer = configure_tracing(service, settings.version, settings.otel_exporter_endpoint)
    metrics = Metrics(service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            spec = fleet.service(service)
            aws = await stack.enter_async_context(
                Aws(
                    settings,
                    service,
                    fleet.name,
                    s3=bool(spec.buckets),
                    scheduler=bool(spec.timers),
                )
            )
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                    verify=tls(),
                )
            )
            runtime = _runtime(fleet, service, settings, aws, http, metrics)
            stack.push_async_callback(runtime.peers.aclose)
            if runtime.redis is not None:
                stack.push_async_callback(runtime.redis.aclose)
            app.state.runtime = runtime
            deps = await setup(runtime) if setup else None
            app.state.deps = deps
            await _wire_events(runtime, handlers(deps) if handlers else {})
            await _wire_timers(runtime, timers(deps) if timers else {})
            tasks = _start_background(runtime, background(deps) if background else {})
            log.info("service.started", version=settings.version, environment=settings.environment)
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                if runtime.relay is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(runtime.relay.flush(), timeout=5)
                for close in reversed(runtime.closers):
                    try:
                        await close()
                    except Exception:  # one that fails must not keep the others open
                        log.warning("service.close_failed", exc_info=True)
                log.info("service.stopped")

    app = FastAPI(
        title=f"Mind-Links {service}",
        version=settings.version,
        description=description,
        lifespan=lifespan,
    )
    install_handlers(app, redis=fleet.service(service).redis)
    app.include_router(health)
    app.include_router(operations)
    for router in routers:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    if settings.local_mode:
        for router in dev_routers:
            app.include_router(router, responses=PROBLEM_RESPONSES)
    if fleet.routes:
        check_mounted(app, fleet, service)
    check_actions(app, fleet, service)
    document_problems(app, fleet.tenancy)
    app.add_middleware(RequestMiddleware, tracer=tracer, metrics=metrics)
    return app


def check_actions(app: FastAPI, fleet: Fleet, service: str) -> None:
    """Refuse to start when a route names an action the fleet's permission
    table does not have, or the service may not look memberships up."""
    used = declared_actions(list(api_routes(app.routes)))
    if not used:
        return
    tenancy = fleet.tenancy
    if tenancy is None:
        raise RuntimeError(f"{service} checks actions {sorted(used)} but the fleet has no tenancy")
    unknown = used - set(tenancy.permissions)
    if unknown:
        raise RuntimeError(f"{service} checks undeclared actions {sorted(unknown)}")
    if service != tenancy.owner and not tenancy.lookup.allows(service):
        raise RuntimeError(f"{service} checks actions but may not call {tenancy.lookup.path}")


def _runtime(
    fleet: Fleet,
    service: str,
    settings: ServiceSettings,
    aws: Aws,
    http: httpx.AsyncClient,
    metrics: Metrics,
) -> Runtime:
    spec = fleet.service(service)
    peers = Peers(
        template=settings.peer_url_template,
        ports={s.name: s.port + settings.port_offset for s in fleet.services},
        allowed={*spec.peers, "auth"} - {service},
        client=http,
        timeout=settings.http_timeout_seconds,
        attempts=settings.http_attempts,
        fail_max=settings.breaker_fail_max,
        reset_timeout=settings.breaker_reset_seconds,
        service=service,
    )

    async def jwks() -> dict[str, Any]:
        response = await peers.request("auth", "GET", "/.well-known/jwks.json", authenticate=False)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    tables = {
        t.name: Table(aws.dynamodb, settings.physical(f"{service}-{t.name}"), t, aws.dynamo_wire)
        for t in fleet.tables(service)
    }
    runtime = Runtime(
        settings=settings,
        fleet=fleet,
        service=spec,
        aws=aws,
        http=http,
        peers=peers,
        verifier=TokenVerifier(
            JwksKeys(jwks), settings.jwt_issuer, settings.jwt_audience, fleet.step_up_roles
        ),
        metrics=metrics,
        cursors=CursorCodec(settings.cursor_secret.get_secret_value().encode()),
        tables=tables,
        redis=redis_client(settings.redis_url) if spec.redis else None,
    )
    if service != "auth":
        peers.tokens = ServiceTokens(lambda: remote_service_token(runtime))
    rules = [r for r in fleet.revocations if r.event in spec.consumes]
    if rules:
        runtime.revocations = Revocations(
            tables["revocations"],
            rules,
            retention_seconds=settings.revocation_retention_seconds,
            refresh_seconds=settings.revocation_refresh_seconds,
        )
        runtime.verifier.revocation_checks.append(runtime.revocations.is_revoked)
    tenancy = fleet.tenancy
    if tenancy is not None and (service == tenancy.owner or tenancy.lookup.allows(service)):
        lookup = tenancy.lookup
        runtime.members = Members(
            tenancy,
            # The owner keeps memberships: its setup gives its own source.
            None if service == tenancy.owner else peer_source(lambda u: peers.call(lookup, u)),
            runtime.revocations,
            ttl_seconds=0 if service == tenancy.owner else settings.membership_ttl_seconds,
        )
    catalog = {e.name: e for e in fleet.events}
    if fleet.publishes(service):
        runtime.relay = Relay(
            tables["outbox"],
            aws.events,
            settings.physical(fleet.bus),
            metrics,
            interval=settings.relay_interval_seconds,
            idle_interval=settings.relay_idle_interval_seconds,
        )
        runtime.outbox = Outbox(tables["outbox"], service, catalog, runtime.relay)
    if spec.timers:
        # Locally the sweep is the delivery; in AWS only the safety net, which
        # need not look more often than a tenth of the lateness it catches.
        local = settings.local_mode
        runtime.timers = Timers(
            tables["timers"],
            spec,
            aws.dynamodb,
            metrics,
            tick_seconds=settings.timer_tick_seconds
            if local
            else max(settings.timer_tick_seconds, settings.timer_grace_seconds / 10),
            grace_seconds=0.0 if local else settings.timer_grace_seconds,
        )
    return runtime


def _both(first: Handler, then: Handler) -> Handler:
    async def run(event: Delivered[Any], uow: UnitOfWork) -> None:
        await first(event, uow)
        await then(event, uow)

    if is_replay_safe(then):
        return replay_safe(run)
    return run


async def _wire_events(runtime: Runtime, own: Mapping[str, Handler]) -> None:
    spec = runtime.service
    handlers = dict(own)
    if runtime.revocations is not None:
        revoke = runtime.revocations.handle
        for event in runtime.revocations.rules:
            own_handler = handlers.get(event)
            # Its one write joins the unit of work; noting in memory repeats
            # harmlessly. A service's own handler of the event runs after it.
            handlers[event] = (
                replay_safe(revoke) if own_handler is None else _both(revoke, own_handler)
            )
    if set(handlers) != set(spec.consumes):
        raise RuntimeError(
            f"{spec.name} handles {sorted(handlers)} but the fleet declares {sorted(spec.consumes)}"
        )
    if not spec.queue:
        return
    sqs = runtime.aws.sqs
    settings = runtime.settings
    queue_url = (await sqs.get_queue_url(QueueName=settings.physical(spec.queue)))["QueueUrl"]
    dlq_url = (await sqs.get_queue_url(QueueName=settings.physical(f"{spec.queue}-dlq")))[
        "QueueUrl"
    ]
    runtime.consumer = Consumer(
        sqs=sqs,
        dynamodb=runtime.aws.dynamodb,
        queue_url=queue_url,
        dead_letter_url=dlq_url,
        inbox=runtime.tables.get("inbox"),
        handlers=handlers,
        catalog={e.name: e for e in runtime.fleet.events},
        max_receives=spec.max_receives,
        metrics=runtime.metrics,
    )


async def _wire_timers(runtime: Runtime, own: Mapping[str, TimerHandler]) -> None:
    """The timers' handlers and queue; outside local mode, EventBridge Scheduler."""
    spec = runtime.service
    declared = {t.name for t in spec.timers}
    if set(own) != declared:
        raise RuntimeError(
            f"{spec.name} handles timers {sorted(own)} but declares {sorted(declared)}"
        )
    timers, consumer = runtime.timers, runtime.consumer
    if timers is None or consumer is None:
        return
    timers.handlers = dict(own)
    timers.queue = (consumer.sqs, consumer.queue_url)
    consumer.timers = timers
    settings = runtime.settings
    if settings.local_mode:
        return  # the sweep alone delivers (no scheduler here)
    if not settings.timer_scheduler_role_arn:
        raise RuntimeError(
            "MINDLINKS_TIMER_SCHEDULER_ROLE_ARN is required by a service with timers"
        )
    attributes = await consumer.sqs.get_queue_attributes(
        QueueUrl=consumer.queue_url, AttributeNames=["QueueArn"]
    )
    timers.schedules = TimerSchedules(
        runtime.aws.scheduler,
        timers.table,
        service=spec.name,
        group=settings.physical(SCHEDULE_GROUP),
        role_arn=settings.timer_scheduler_role_arn,
        queue_arn=attributes["Attributes"]["QueueArn"],
        metrics=runtime.metrics,
    )


def _start_background(
    runtime: Runtime, own: Mapping[str, Callable[[], Coroutine[Any, Any, None]]]
) -> list[asyncio.Task[None]]:
    tasks: list[asyncio.Task[None]] = []
    if not runtime.settings.background_workers:
        return tasks
    if runtime.relay is not None:
        tasks.append(asyncio.create_task(runtime.relay.run(), name="outbox-relay"))
    if runtime.consumer is not None:
        tasks.append(asyncio.create_task(runtime.consumer.run(), name="event-consumer"))
    if runtime.timers is not None:
        tasks.append(asyncio.create_task(runtime.timers.run(), name="timers"))
    for name, run in own.items():
        tasks.append(asyncio.create_task(run(), name=name))
    return tasks
