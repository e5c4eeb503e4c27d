"""Which company action each public route names, read from the code: the
``tenant_action`` its ``acting(...)``/``acting_or(...)`` dependency carries
(as the kit's ``declared_actions`` reads it at start-up) and the platform
roles the route also lets in as themselves. The authorization matrices take
these, with the fleet's ``PERMISSIONS``, as their oracle: nothing is written
per route."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mindlinks_fleet import FLEET
from mindlinks_fleet.teams import ACCOUNT_ROLE, PERMISSIONS
from mindlinks_kit.internal import api_routes


@dataclass(frozen=True)
class Rule:
    action: str
    other_roles: tuple[str, ...]
    """Platform roles let in as themselves (a contractor reading its contract)."""

    @property
    def company_roles(self) -> frozenset[str]:
        """The company roles ``PERMISSIONS`` allows for the action."""
        return frozenset(role.value for role in PERMISSIONS[self.action])

    @property
    def platform_roles(self) -> frozenset[str]:
        """Who may call at all: a member's account, or one of ``other_roles``."""
        return frozenset({ACCOUNT_ROLE, *self.other_roles})


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def rule_of(route: Any) -> Rule | None:
    """The route's company rule, or ``None`` when it acts for no company."""
    for call in _calls(route.dependant):
        action = getattr(call, "tenant_action", None)
        if action is not None:
            return Rule(str(action), tuple(getattr(call, "other_roles", ())))
    return None


@functools.cache
def rules() -> dict[tuple[str, str], Rule]:
    """(method, path) → its rule, for every public route that acts for a company."""
    from mindlinks_dev.harness import installed_services

    os.environ.setdefault("MINDLINKS_LOG_LEVEL", "WARNING")
    factories = installed_services()
    found: dict[tuple[str, str], Rule] = {}
    for service in FLEET.services:
        if service.name not in factories:
            continue
        for route in api_routes(factories[service.name]().routes):
            rule = rule_of(route)
            if rule is None:
                continue
            for method in (route.methods or set()) - {"HEAD"}:
                found[(method, route.path)] = rule
    return found
