"""The README's API map and event catalog, derived from the code.

``python -m mindlinks_dev.catalog --write`` rewrites the generated blocks
of README.md; ``--check`` (a test) fails when they drift. The API map lists
every public route of every installed service with who may call it, read from
each route's auth dependencies (``roles(...)``, ``acting(action)``,
``CurrentUser``, none), and for a route acting for a company the company
roles its action allows (``Fleet.tenancy.permissions``), whose table is
printed once beside it; the
internal API lists every declared ``/internal`` route with its owner and
allowed callers from ``FLEET.routes``; the event catalog lists each event's
producer and consumers from ``FLEET``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from mindlinks_dev.openapi import repo_root
from mindlinks_kit.auth import current_user, current_user_any_factor, service_caller
from mindlinks_kit.declaration import EVERY_SERVICE, Fleet, Lookup
from mindlinks_kit.internal import api_routes

BLOCK = re.compile(r"(<!-- (?P<name>[a-z-]+):start -->\n).*?(<!-- (?P=name):end -->)", re.S)


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def action_of(route: APIRoute) -> Any:
    """The ``acting(...)``/``acting_or(...)`` dependency of a route that acts
    for a tenant (its ``tenant_action`` and ``other_roles``), else ``None``."""
    return next((c for c in _calls(route.dependant) if getattr(c, "tenant_action", None)), None)


def who(route: APIRoute, account_role: str = "client") -> str:
    """The platform roles let in (a tenant's member's account, for a route
    that acts for a tenant: the API map adds the action)."""
    calls = list(_calls(route.dependant))
    acting = action_of(route)
    if acting is not None:
        return " or ".join(dict.fromkeys((account_role, *acting.other_roles)))
    for call in calls:
        allowed = getattr(call, "allowed_roles", None)
        if allowed:
            return " or ".join(allowed)
    if current_user in calls or current_user_any_factor in calls:
        return "signed in"
    if service_caller in calls:
        return "services"
    if "/webhooks/" in route.path:
        return "the provider (signed)"
    return "public"


def _summary(route: APIRoute) -> str:
    text = (route.description or route.summary or "").strip().split("\n\n")[0]
    return " ".join(text.split()).replace("|", "\\|")


@dataclass(frozen=True)
class PublicRoute:
    service: str
    method: str
    path: str
    who: str
    """Who may call it, as the API map says (``who(route)``)."""
    local_only: bool
    summary: str
    action: str | None = None
    """The tenant action the route names (``acting(action)``), if any."""
    company_roles: tuple[str, ...] = ()
    """The company roles that action allows (``Fleet.tenancy.permissions``)."""


def public_routes(fleet: Fleet) -> list[PublicRoute]:
    """Every public route of every installed service, in API-map order: what
    the README's API map lists and the hostile-input suite's authorization
    matrix takes as its oracle."""
    from mindlinks_dev.harness import installed_services

    os.environ.setdefault("MINDLINKS_LOG_LEVEL", "WARNING")
    factories = installed_services()
    account_role = fleet.tenancy.account_role if fleet.tenancy else "client"
    permissions = fleet.tenancy.permissions if fleet.tenancy else {}
    found: list[PublicRoute] = []
    for service in fleet.services:
        if service.name not in factories:
            continue
        app = factories[service.name]()
        area = f"/v1/{service.area}"
        routes = sorted(
            (
                r
                for r in api_routes(app.routes)
                if r.path == area
                or r.path.startswith(area + "/")
                or r.path in service.extra_public_paths
            ),
            key=lambda r: (r.path, sorted(r.methods or ())),
        )
        for route in routes:
            local = f"/v1/{service.area}/dev/" in route.path
            acting = action_of(route)
            action = str(acting.tenant_action) if acting is not None else None
            allowed = tuple(permissions[action]) if action is not None else ()
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append(
                    PublicRoute(
                        service.name,
                        method,
                        route.path,
                        who(route, account_role),
                        local,
                        _summary(route),
                        action,
                        allowed,
                    )
                )
    return found


def api_map(fleet: Fleet) -> str:
    lines = [
        "| service | method | path | who | company roles | what |",
        "|---|---|---|---|---|---|",
    ]
    for route in public_routes(fleet):
        local = " (local only)" if route.local_only else ""
        # A member whose company role allows the action (``X-Company-Id``).
        roles = f"{', '.join(route.company_roles)} (`{route.action}`)" if route.action else "—"
        lines.append(
            f"| {route.service} | {route.method} | `{route.path}` | {route.who}{local} "
            f"| {roles} | {route.summary} |"
        )
    return "\n".join(lines) + "\n"


def company_roles(fleet: Fleet) -> str:
    """The permission table: each action, the company roles allowed it."""
    tenancy = fleet.tenancy
    if tenancy is None:
        return "No tenancy is declared.\n"
    header = "| action | " + " | ".join(tenancy.roles) + " |"
    lines = [header, "|---|" + "---|" * len(tenancy.roles)]
    for action, allowed in tenancy.permissions.items():
        marks = " | ".join("yes" if role in allowed else "—" for role in tenancy.roles)
        lines.append(f"| `{action}` | {marks} |")
    return "\n".join(lines) + "\n"


def internal_api(fleet: Fleet) -> str:
    """The internal API: each declared route, its owner and who may call it."""
    lines = ["| owner | method | path | callers | answer | what |", "|---|---|---|---|---|---|"]
    for route in sorted(fleet.routes, key=lambda r: (r.owner, r.path, r.method)):
        owner = "every service" if route.owner == EVERY_SERVICE else route.owner
        callers = "any service" if EVERY_SERVICE in route.callers else ", ".join(route.callers)
        if not route.authenticated:
            callers += " (its own secret, no token)"
        answer = getattr(route.answer, "__name__", str(route.answer))
        missing = " or none (404)" if isinstance(route, Lookup) else ""
        lines.append(
            f"| {owner} | {route.method} | `{route.path}` | {callers} | `{answer}`{missing} "
            f"| {route.summary} |"
        )
    return "\n".join(lines) + "\n"


def event_catalog(fleet: Fleet) -> str:
    lines = ["| event | producer | consumers |", "|---|---|---|"]
    for event in fleet.events:
        consumers = ", ".join(fleet.consumers(event.name)) or "—"
        lines.append(f"| `{event.name}` | {event.producer} | {consumers} |")
    return "\n".join(lines) + "\n"


def render(readme: str, blocks: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in blocks:
            return match.group(0)
        return f"{match.group(1)}{blocks[name]}{match.group(3)}"

    return BLOCK.sub(replace, readme)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mindlinks_dev.catalog")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    from mindlinks_fleet import FLEET

    readme = repo_root(Path.cwd()) / "README.md"
    current = readme.read_text(encoding="utf-8")
    blocks = {
        "api-map": api_map(FLEET),
        "company-roles": company_roles(FLEET),
        "internal-api": internal_api(FLEET),
        "event-catalog": event_catalog(FLEET),
    }
    wanted = render(current, blocks)
    if args.write:
        readme.write_text(wanted, encoding="utf-8")
        return 0
    if wanted != current:
        print(
            "README.md's API map, internal API or event catalog is out of date: run "
            "`python -m mindlinks_dev.catalog --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
