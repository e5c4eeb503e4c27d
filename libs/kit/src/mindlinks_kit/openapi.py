"""Document errors as they are sent: ``application/problem+json`` bodies; and
document, on every route acting for a tenant, the header naming the tenant and
the tenancy's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from mindlinks_kit.declaration import Tenancy
from mindlinks_kit.errors import PROBLEM_JSON
from mindlinks_kit.internal import api_routes
from mindlinks_kit.schemas import ID_PATTERN, ProblemDetails

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemDetails, "description": "The request is not valid"},
    "default": {"model": ProblemDetails, "description": "A problem (RFC 9457)"},
}
_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


def tenant_action(route: APIRoute) -> str | None:
    """The action a route's dependencies name (``acting(action)``), if any."""
    for call in _calls(route.dependant):
        action = getattr(call, "tenant_action", None)
        if action is not None:
            return str(action)
    return None


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _tenancy_problems(tenancy: Tenancy) -> dict[str, tuple[type[Any], str]]:
    return {
        str(tenancy.ambiguous.status): (
            tenancy.ambiguous,
            f"The account belongs to several tenants and {tenancy.header} is missing",
        ),
        str(tenancy.refused.status): (tenancy.refused, "The member's role does not allow this"),
        str(tenancy.not_found.status): (
            tenancy.not_found,
            f"{tenancy.header} names a tenant the account is not a member of, or the "
            "object is not the tenant's",
        ),
        str(tenancy.none.status): (tenancy.none, "The account is a member of no tenant"),
    }


def _document_tenancy(
    operation: dict[str, Any], action: str, tenancy: Tenancy, other_roles: tuple[str, ...]
) -> None:
    allowed = ", ".join(tenancy.permissions[action])
    others = f" ({', '.join(other_roles)} accounts act as themselves)" if other_roles else ""
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name") == tenancy.header and p.get("in") == "header" for p in parameters):
        parameters.append(
            {
                "name": tenancy.header,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": ID_PATTERN},
                "description": (
                    f"The tenant this request acts for; needed only by a member of several. "
                    f"Action `{action}`: roles {allowed}{others}."
                ),
            }
        )
    operation["x-tenant-action"] = action
    responses = operation.setdefault("responses", {})
    for status, (problem, why) in _tenancy_problems(tenancy).items():
        described = f"`{problem.code}`: {why}"
        if status in responses:
            responses[status]["description"] += f"; or {described}"
            responses[status].setdefault("content", dict(_PROBLEM))
        else:
            responses[status] = {"description": described, "content": dict(_PROBLEM)}


def document_problems(app: FastAPI, tenancy: Tenancy | None = None) -> None:
    """Move the problem responses FastAPI documents as ``application/json`` to
    ``application/problem+json``, which is what the error handlers send; on
    each route whose dependencies name a tenant action, document the optional
    tenant header and the tenancy's 400/403/404/409 problems."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        paths = schema.get("paths", {})
        for path in paths.values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if (status == "default" or status[0] in "45") and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        if tenancy is not None:
            for route in api_routes(app.routes):
                if route.path not in paths:
                    continue
                action = tenant_action(route)
                if action is None:
                    continue
                others = next(
                    (
                        tuple(c.other_roles)
                        for c in _calls(route.dependant)
                        if getattr(c, "tenant_action", None) is not None
                    ),
                    (),
                )
                for method in route.methods or ():
                    operation = paths[route.path].get(method.lower())
                    if operation is not None:
                        _document_tenancy(operation, action, tenancy, others)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
