"""The company-role authorization matrix: every public route that acts for a
company x every company role (a member of company A with each: owner,
admin, manager, finance, viewer) x the company it acts for and the object
its path names, judged against the fleet's ``PERMISSIONS`` and the action
the route's dependency names (``mindlinks_dev.fuzz.actions``) — no
expectation is written per route.

Targets: ``own`` (``X-Company-Id`` A, A's objects), ``foreign`` (A, but
company B's objects in the path: routes that name one) and ``other``
(``X-Company-Id`` B, B's objects: a company the member is not in). Nothing
leaks:
- ``other``: ``404 company-not-found`` whatever the role and method, the
  same answer as an unknown company;
- a role the action does not allow (``own``/``foreign``): ``403
  company-role-not-allowed``, whatever the method (refused before any
  effect, so writes are sent too);
- an allowed role on ``foreign``: ``404`` (a write may instead be refused
  for its body, ``422``, which names nothing either);
- an allowed role on ``own``: sent only for ``GET`` (a write would change
  the cast), never ``401``/``403``/``404``.
No cell may answer ``5xx``; every refusal is problem+json."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from mindlinks_dev.catalog import PublicRoute, public_routes
from mindlinks_dev.fuzz import actions
from mindlinks_dev.fuzz.cast import COMPANY_ROLES, Cast
from mindlinks_dev.fuzz.matrix import (
    BODIES,
    PROBLEM,
    REASON,
    WRITES,
    Verdict,
    parameters,
    sampled,
    with_step_up,
)
from mindlinks_fleet import FLEET
from mindlinks_fleet.teams import CompanyNotFound, CompanyRoleNotAllowed

TARGETS = ("own", "foreign", "other")
MEMBER_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/v1/clients/me/members/{user_id}"): {"role": "viewer", "version": 1},
    ("POST", "/v1/clients/me/member-invitations"): {
        "email": "matrix-probe@example.com",
        "role": "viewer",
    },
}
"""Valid bodies for the team's own writes (the others: ``matrix.BODIES``)."""


@dataclass(frozen=True)
class Cell:
    route: PublicRoute
    rule: actions.Rule
    role: str
    """A company role: the member of company A who has it."""
    target: str
    """``own``, ``foreign`` or ``other`` (``TARGETS``)."""


def cells(routes: list[PublicRoute]) -> list[Cell]:
    found: list[Cell] = []
    rules = actions.rules()
    for route in routes:
        rule = rules.get((route.method, route.path))
        if route.local_only or rule is None:
            continue
        targets = TARGETS if parameters(route) else ("own", "other")
        found.extend(Cell(route, rule, role, t) for role in COMPANY_ROLES for t in targets)
    return found


def the_cells(sample: float = 1.0, seed: int = 0) -> list[Cell]:
    """Every cell, or a ``sample`` fraction of them chosen by ``seed``."""
    return sampled(cells(public_routes(FLEET)), sample, seed)


def expectation(cell: Cell) -> str:
    """``no-such-company``, ``refused``, ``not-found`` or ``allowed``."""
    if cell.target == "other":
        return "no-such-company"
    if cell.role not in cell.rule.company_roles:
        return "refused"
    return "not-found" if cell.target == "foreign" else "allowed"


def should_send(cell: Cell) -> bool:
    return expectation(cell) != "allowed" or cell.route.method == "GET"


def _ids(cast: Cast, target: str) -> dict[str, str]:
    tenant = cast.a if target == "own" else cast.b
    return {**tenant.contractor.ids, **tenant.client.ids}


def request(cast: Cast, cell: Cell) -> tuple[str, str, dict[str, str], dict[str, Any] | None]:
    """The method, URL, headers and body the cell sends; ``KeyError`` when the
    cast has no object of A for a parameter an allowed ``GET`` names."""
    team = cast.team
    company_id = team.other_company if cell.target == "other" else team.own_company
    ids = _ids(cast, cell.target)
    path = cell.route.path
    for name in parameters(cell.route):
        value = ids.get(name)
        if value is None and expectation(cell) == "allowed":
            raise KeyError(name)
        path = path.replace(f"{{{name}}}", value or uuid.uuid4().hex)
    method = cell.route.method
    key = (method, cell.route.path)
    body = MEMBER_BODIES.get(key) or BODIES.get(key, REASON)
    if expectation(cell) in ("not-found", "allowed"):
        body = with_step_up(cast.edge, key, path, team.members[cell.role], body)
    headers = team.headers(cell.role, company_id) | {"idempotency-key": uuid.uuid4().hex}
    return method, path, headers, body if method in WRITES else None


def _code(response: httpx.Response) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def judge(cell: Cell, response: httpx.Response) -> str | None:
    status = response.status_code
    kind = expectation(cell)
    code = _code(response)
    where = (
        f"{cell.route.method} {cell.route.path} ({cell.rule.action}) as {cell.role} "
        f"({cell.target}): {status} {response.text[:160]}"
    )
    if status >= 500:
        return where
    if status >= 400 and response.headers.get("content-type") != PROBLEM:
        return f"{where}: not problem+json"
    if kind == "no-such-company" and (status, code) != (404, CompanyNotFound.code):
        return f"{where}: wanted 404 {CompanyNotFound.code}"
    if kind == "refused" and (status, code) != (403, CompanyRoleNotAllowed.code):
        return f"{where}: wanted 403 {CompanyRoleNotAllowed.code}"
    if kind == "not-found":
        allowed = (404,) if cell.route.method == "GET" else (404, 422)
        if status not in allowed:
            return f"{where}: wanted {' or '.join(map(str, allowed))} for company B's object"
    if kind == "allowed" and status in (401, 403, 404):
        return f"{where}: refused although {cell.role} may {cell.rule.action}"
    return None


def run(cast: Cast, chosen: list[Cell]) -> Verdict:
    verdict = Verdict(cells=len(chosen))
    for cell in chosen:
        if not should_send(cell):
            continue
        try:
            method, url, headers, body = request(cast, cell)
        except KeyError as missing:
            verdict.failures.append(
                f"{cell.route.method} {cell.route.path}: the cast has no {missing} of company A"
            )
            continue
        response = cast.edge.request(method, url, headers=headers, json=body)
        verdict.sent += 1
        verdict.statuses[response.status_code] += 1
        failure = judge(cell, response)
        if failure:
            verdict.failures.append(failure)
    return verdict
