"""The internal API as declared in ``mindlinks_fleet.internal``, held against
the running fleet and the code:

- every service refuses, on each of its internal routes, a service the
  declaration does not name as a caller (a compromised notification task
  cannot read contracts), and lets a declared caller through;
- no ``/internal`` path is written anywhere but in the declaration (and the
  kit's own operations router): callers and stand-ins derive it.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import EVERY_SERVICE, Route

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [s.name for s in FLEET.services]


def _outsider(route: Route[Any], owner: str) -> str:
    """A service the route does not allow (never the owner itself)."""
    return next(s for s in SERVICES if s != owner and not route.allows(s))


def _path(route: Route[Any]) -> str:
    return route.fill(*(uuid.uuid4().hex for _ in route.parameters))


@pytest.mark.parametrize("owner", SERVICES)
async def test_internal_routes_refuse_a_service_not_declared_as_a_caller(
    platform: Running, owner: str
) -> None:
    routes = [r for r in FLEET.routes_of(owner) if r.authenticated]
    assert routes, f"{owner} mounts no internal route"
    client = platform.client(owner)
    for route in routes:
        outsider = _outsider(route, owner)
        refused = await client.request(
            route.method, _path(route), headers=platform.service_bearer(outsider)
        )
        assert refused.status_code == 403, (route.path, outsider, refused.text)
        assert refused.json()["code"] == "forbidden"
        callers = [s for s in SERVICES if s != owner and route.allows(s)]
        if route.method == "GET" and callers:  # a read has no side effect to fear
            caller = callers[0]
            allowed = await client.get(_path(route), headers=platform.service_bearer(caller))
            assert allowed.status_code not in (401, 403), (route.path, caller, allowed.text)


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals naming an internal path; prose (docstrings, bare
    strings documenting a name) may name one."""
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in prose:
            continue
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and (text.startswith("/internal") or "/internal/" in text):
            found.append((node.lineno, text))
    return found


ALLOWED = {
    # The declaration itself.
    "libs/fleet/src/mindlinks_fleet/internal",
    # The kit's own router, which every service mounts (declared in the fleet too).
    "libs/kit/src/mindlinks_kit/operations.py",
    # The prefix every declared route must start with.
    "libs/kit/src/mindlinks_kit/declaration.py",
    # The edge keeps /internal from the internet; smoke checks that it does.
    "tools/devkit/src/mindlinks_dev/edge",
    "tools/devkit/src/mindlinks_dev/deploy/smoke.py",
}


def test_no_internal_path_is_written_outside_the_declaration() -> None:
    sources = [
        *ROOT.glob("services/*/src/**/*.py"),
        *ROOT.glob("libs/*/src/**/*.py"),
        *ROOT.glob("tools/*/src/**/*.py"),
    ]
    assert len(sources) > 100
    offenders = []
    for source in sources:
        relative = source.relative_to(ROOT).as_posix()
        if any(relative.startswith(allowed) for allowed in ALLOWED):
            continue
        for line, literal in _literals(ast.parse(source.read_text(), relative)):
            offenders.append(f"{relative}:{line}: {literal!r}")
    assert offenders == [], "use the declared route (mindlinks_fleet.internal) instead"


def test_every_declared_route_names_an_owner_that_serves_it() -> None:
    owners = {r.owner for r in FLEET.routes} - {EVERY_SERVICE}
    assert owners <= set(SERVICES)
    assert FLEET.token_route is not None
    assert not FLEET.token_route.authenticated
    assert [r for r in FLEET.routes if not r.authenticated] == [FLEET.token_route]
