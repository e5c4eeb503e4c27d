"""The owner's side of the internal API: mount a declared route, and refuse to
start when what is mounted and what the fleet declares disagree.

The caller's side is ``Peers.call`` (``mindlinks_kit.http``); both read the
same ``Route``, so a caller's idea of a route is the route itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from mindlinks_kit.auth import ServiceCaller, service_caller
from mindlinks_kit.declaration import EVERY_SERVICE, INTERNAL_PREFIX, Fleet, Route
from mindlinks_kit.errors import Forbidden

F = TypeVar("F", bound=Callable[..., Any])


def allowed_callers(route: Route[Any]) -> Callable[[ServiceCaller], Awaitable[ServiceCaller]]:
    """A dependency that lets through only the services ``route`` names: a
    compromised task can call no more than the declaration gives it."""

    async def check(caller: Annotated[ServiceCaller, Depends(service_caller)]) -> ServiceCaller:
        if not route.allows(caller.service):
            raise Forbidden(f"Only {' or '.join(route.callers)} may call this")
        return caller

    check.declared_route = route  # type: ignore[attr-defined]  # read at start-up and by the API map
    return check


def serve(router: APIRouter, route: Route[Any], **options: Any) -> Callable[[F], F]:
    """``@serve(internal, contract.CONTRACT)``: mount the endpoint at the
    declared method and path, answering the declared model with the declared
    status, behind the declared callers' check."""
    if route.authenticated:
        options.setdefault("dependencies", []).append(Depends(allowed_callers(route)))
    response_model = None if route.answer is bytes else route.answer
    return router.api_route(
        route.path,
        methods=[route.method],
        response_model=response_model,
        status_code=route.status,
        tags=["internal"],
        **options,
    )


def api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, whether FastAPI included its routers eagerly or lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


def declared_route(route: APIRoute) -> Route[Any] | None:
    """The declaration a mounted route was served from, if any."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        found = getattr(dependency.call, "declared_route", None)
        if found is not None:
            return found  # type: ignore[no-any-return]
        pending.extend(dependency.dependencies)
    return None


def check_mounted(app: FastAPI, fleet: Fleet, service: str) -> None:
    """Refuse to start unless the app mounts exactly the internal routes the
    fleet declares for ``service``, each served from its declaration."""
    declared = {r.key(): r for r in fleet.routes_of(service)}
    mounted: dict[tuple[str, str], APIRoute] = {}
    for api_route in api_routes(app.routes):
        if api_route.path.startswith(INTERNAL_PREFIX):
            for method in api_route.methods or ():
                mounted[(method, api_route.path)] = api_route
    problems = [f"{m} {p} is mounted but not declared" for m, p in mounted.keys() - declared]
    problems += [f"{m} {p} is declared but not mounted" for m, p in declared.keys() - mounted]
    for key, route in declared.items():
        found = mounted.get(key)
        if found is None or route.owner == EVERY_SERVICE or not route.authenticated:
            continue
        if declared_route(found) is not route:
            problems.append(f"{key[0]} {key[1]} is not mounted with serve() from its declaration")
    if problems:
        raise RuntimeError(f"{service}'s internal routes disagree with the fleet: {problems}")
