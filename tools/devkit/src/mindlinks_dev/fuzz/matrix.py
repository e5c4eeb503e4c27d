"""The authorization matrix: every public route x every role (anonymous,
client, contractor, admin) x the object its path names (the caller's own,
another tenant's, an unknown id), judged against the route's declared "who"
— read from the code by ``mindlinks_dev.catalog.public_routes``, the source
of the README's API map; a route that acts for a company admits a member's
account and the platform roles its ``acting_or`` names
(``mindlinks_dev.fuzz.actions``). The company roles themselves are
``mindlinks_dev.fuzz.company``'s matrix.

A cell whose role the route does not admit must be refused (anonymous
``401``, a signed-in role ``403``), whatever its method. A cell on another
tenant's or an unknown object must not succeed (anything but ``2xx``/``3xx``)
unless the caller is an admin on a route that admits admins (admins may see
every tenant's objects). A cell the route admits on the caller's own object,
or on a route without an object, must not be refused as unauthorized; it is
sent only for ``GET`` (a write would change the cast; schemathesis covers
writes). No cell may answer ``5xx``, and every refusal is problem+json.
Routes that exist only in local mode (``/v1/<area>/dev/...``) are left out:
they are not deployed."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from mindlinks_dev.catalog import PublicRoute, public_routes
from mindlinks_dev.demo import Person, Story
from mindlinks_dev.fuzz import actions
from mindlinks_dev.fuzz.cast import ROLES, Cast, Party
from mindlinks_fleet import FLEET

C = TypeVar("C")

PROBLEM = "application/problem+json"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
UNKNOWN = {"seq": "987654321", "number": "9999"}
"""An unknown id per parameter (default: a fresh uuid4 hex, the shape ids have)."""
REASON = {"reason": "authorization matrix probe"}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/contracts/{contract_id}/void"): REASON,
    ("POST", "/v1/signatures/contracts/{contract_id}/decline"): REASON,
    ("POST", "/v1/signatures/contracts/{contract_id}/sign"): {
        "consent": True,
        "signatureName": "Matrix Probe",
    },
    ("POST", "/v1/contracts/{contract_id}/amendments"): {
        **REASON,
        "endDate": "2099-11-30",
    },
    ("POST", "/v1/contracts/{contract_id}/amendments/{number}/withdraw"): REASON,
    ("POST", "/v1/signatures/contracts/{contract_id}/amendments/{number}/decline"): REASON,
    ("POST", "/v1/signatures/contracts/{contract_id}/amendments/{number}/sign"): {
        "consent": True,
        "signatureName": "Matrix Probe",
    },
    ("POST", "/v1/contracts/{contract_id}/signing-deadline"): {
        "signingDeadline": "2099-01-01T00:00:00Z",
    },
    ("POST", "/v1/kyc/sessions/{session_id}/documents"): {
        "kind": "passport",
        "contentType": "image/png",
        "size": 1024,
    },
}
"""Valid bodies, so that a write reaches the object check (an invalid body is
refused with 422 before the object is looked at); admin actions take
``REASON``; anything else ``{}``."""


SIGN = ("POST", "/v1/signatures/contracts/{contract_id}/sign")
SIGN_AMENDMENT = ("POST", "/v1/signatures/contracts/{contract_id}/amendments/{number}/sign")


def with_step_up(
    edge: httpx.Client, key: tuple[str, str], url: str, party: Party, body: dict[str, Any]
) -> dict[str, Any]:
    """``body``, and for the sign routes a step-up token of ``party`` for the
    contract (or amendment) ``url`` names (issue 16: the person confirms a
    mailed code first), so the cell reaches the object check instead of
    stopping at ``403 step-up-required``."""
    parts = url.rstrip("/").split("/")
    if key == SIGN:
        contract_id, amendment = parts[-2], None
    elif key == SIGN_AMENDMENT:
        contract_id, amendment = parts[-4], int(parts[-2])
    else:
        return body
    token = party.headers["authorization"].removeprefix("Bearer ")
    person = Person(party.email, party.role, party.role, token=token)
    story = Story(edge, lambda _: None)
    return {**body, "stepUpToken": story.step_up(person, contract_id, amendment)}


@dataclass(frozen=True)
class Cell:
    route: PublicRoute
    role: str
    target: str
    """``own``, ``other``, ``unknown`` or ``none`` (no object in the path)."""


@dataclass
class Verdict:
    cells: int = 0
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def admitted(route: PublicRoute) -> set[str]:
    rule = actions.rules().get((route.method, route.path))
    if rule is not None:
        return set(rule.platform_roles)
    if route.who == "public":
        return set(ROLES)
    if route.who == "signed in":
        return set(ROLES) - {"anonymous"}
    if route.who == "the provider (signed)":
        return set()
    return set(route.who.split(" or "))


def parameters(route: PublicRoute) -> list[str]:
    return [part[1:-1] for part in route.path.split("/") if part.startswith("{")]


def cells(routes: list[PublicRoute]) -> list[Cell]:
    found: list[Cell] = []
    for route in routes:
        if route.local_only:
            continue
        targets = ("own", "other", "unknown") if parameters(route) else ("none",)
        found.extend(Cell(route, role, target) for role in ROLES for target in targets)
    return found


def sampled(everything: list[C], sample: float, seed: int) -> list[C]:
    """Every cell, or a ``sample`` fraction of them chosen by ``seed``, in order."""
    if sample >= 1.0:
        return everything
    picker = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    chosen = picker.sample(everything, max(1, int(len(everything) * sample)))
    return sorted(chosen, key=everything.index)


def the_cells(sample: float = 1.0, seed: int = 0) -> list[Cell]:
    """Every cell, or a ``sample`` fraction of them chosen by ``seed``."""
    return sampled(cells(public_routes(FLEET)), sample, seed)


def _ids(cast: Cast, role: str, target: str) -> dict[str, str]:
    tenant = cast.a if target == "own" else cast.b
    if role == "admin":
        return cast.admin_party(tenant).ids
    party: Party = tenant.party(role) if role in ("client", "contractor") else tenant.client
    # What the party's tenant has that the party itself does not name (a
    # contractor's company, its client's escrow): the tenant's, for the path.
    return {**tenant.client.ids, **tenant.contractor.ids, **party.ids}


def _url(cell: Cell, cast: Cast) -> str:
    path = cell.route.path
    ids = _ids(cast, cell.role, cell.target) if cell.target in ("own", "other") else {}
    for name in parameters(cell.route):
        value = ids.get(name) if cell.target != "unknown" else None
        path = path.replace(f"{{{name}}}", value or UNKNOWN.get(name, uuid.uuid4().hex))
    return path


def expectation(cell: Cell) -> str:
    """``refused`` (401/403), ``not-found`` (no 2xx/3xx), ``allowed`` (no 401/403)."""
    allowed = admitted(cell.route)
    if cell.role not in allowed:
        return "refused"
    if cell.target in ("other", "unknown") and not (
        cell.role == "admin" and cell.target == "other"
    ):
        return "not-found"
    return "allowed"


def should_send(cell: Cell) -> bool:
    kind = expectation(cell)
    if kind == "allowed":
        return cell.route.method == "GET"
    if kind == "not-found" and cell.role == "admin" and cell.route.method in WRITES:
        # An admin acting on an unknown id: sent (must not succeed).
        return True
    return True


def judge(cell: Cell, response: httpx.Response) -> str | None:
    status = response.status_code
    kind = expectation(cell)
    problem = response.headers.get("content-type") == PROBLEM
    where = f"{cell.route.method} {cell.route.path} as {cell.role} ({cell.target})"
    if status >= 500:
        return f"{where}: {status} {response.text[:160]}"
    if status >= 400 and not problem:
        return f"{where}: {status} is not problem+json"
    if kind == "refused":
        wanted = 401 if cell.role == "anonymous" else 403
        if status != wanted and not (cell.route.who == "the provider (signed)" and status < 500):
            return f"{where}: {status}, wanted {wanted} ({cell.route.who}) {response.text[:160]}"
        if cell.route.who == "the provider (signed)" and status < 400:
            return f"{where}: an unsigned webhook answered {status}"
    elif kind == "not-found" and status < 400:
        return f"{where}: {status}: another tenant's or an unknown object was served"
    elif kind == "allowed" and status in (401, 403):
        return f"{where}: {status}: refused although the route admits {cell.role}"
    return None


def run(cast: Cast, chosen: list[Cell]) -> Verdict:
    verdict = Verdict(cells=len(chosen))
    for cell in chosen:
        if not should_send(cell):
            continue
        method, path = cell.route.method, cell.route.path
        body = BODIES.get((method, path), REASON if "/v1/admin/" in path else {})
        url = _url(cell, cast)
        if expectation(cell) != "refused" and cell.role in ("client", "contractor"):
            body = with_step_up(cast.edge, (method, path), url, cast.a.party(cell.role), body)
        headers = cast.headers(cell.role) | {"idempotency-key": uuid.uuid4().hex}
        response = cast.edge.request(
            method,
            url,
            headers=headers,
            json=body if method in WRITES else None,
        )
        verdict.sent += 1
        verdict.statuses[response.status_code] += 1
        failure = judge(cell, response)
        if failure:
            verdict.failures.append(failure)
    return verdict
