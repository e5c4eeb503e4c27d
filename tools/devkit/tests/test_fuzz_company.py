"""The company-role matrix's oracle: a route's rule is read from its
``acting``/``acting_or`` dependency, the expected outcome of each cell
follows from the fleet's ``PERMISSIONS`` and that rule alone, and the judge
fails every answer that leaks or refuses wrongly."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from mindlinks_dev.catalog import PublicRoute
from mindlinks_dev.fuzz import actions, company, matrix
from mindlinks_fleet.teams import CompanyNotFound, CompanyRoleNotAllowed
from mindlinks_kit.internal import api_routes
from mindlinks_kit.tenancy import Acting, acting, acting_or

PROBLEM = {"content-type": "application/problem+json"}
RELEASE = PublicRoute(
    "payment", "POST", "/v1/payments/escrow/{escrow_id}/release", "signed in", False, ""
)
MEMBERS = PublicRoute("client", "GET", "/v1/clients/me/members", "signed in", False, "")


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/payments/escrow/{escrow_id}/release")
    async def release(
        escrow_id: str, who: Annotated[Acting, Depends(acting("payments.move"))]
    ) -> None:
        return None

    @app.get("/v1/contracts/{contract_id}")
    async def contract(
        contract_id: str,
        who: Annotated[Acting, Depends(acting_or("contracts.read", "contractor"))],
    ) -> None:
        return None

    @app.get("/v1/users/me")
    async def me() -> None:
        return None

    return app


def test_a_routes_rule_is_the_action_its_dependency_names() -> None:
    found = {r.path: actions.rule_of(r) for r in api_routes(_app().routes)}
    assert found == {
        "/v1/payments/escrow/{escrow_id}/release": actions.Rule("payments.move", ()),
        "/v1/contracts/{contract_id}": actions.Rule("contracts.read", ("contractor",)),
        "/v1/users/me": None,
    }
    move = found["/v1/payments/escrow/{escrow_id}/release"]
    assert move is not None
    assert move.company_roles == {"owner", "admin", "finance"}
    assert move.platform_roles == {"client"}


def _cell(route: PublicRoute, action: str, role: str, target: str) -> company.Cell:
    return company.Cell(route, actions.Rule(action, ()), role, target)


@pytest.mark.parametrize(
    ("role", "target", "expected", "sent"),
    [
        ("finance", "own", "allowed", False),
        ("owner", "own", "allowed", False),
        ("viewer", "own", "refused", True),
        ("manager", "foreign", "refused", True),
        ("admin", "foreign", "not-found", True),
        ("finance", "other", "no-such-company", True),
        ("viewer", "other", "no-such-company", True),
    ],
)
def test_each_cell_expects_what_the_permissions_say(
    role: str, target: str, expected: str, sent: bool
) -> None:
    cell = _cell(RELEASE, "payments.move", role, target)
    assert company.expectation(cell) == expected
    assert company.should_send(cell) is sent


def test_an_allowed_read_is_sent_for_every_role() -> None:
    for role in ("owner", "admin", "manager", "finance", "viewer"):
        cell = _cell(MEMBERS, "members.read", role, "own")
        assert (company.expectation(cell), company.should_send(cell)) == ("allowed", True)


def _answer(status: int, code: str | None = None, problem: bool = True) -> httpx.Response:
    body: dict[str, Any] = {"code": code} if code else {"items": []}
    return httpx.Response(status, json=body, headers=PROBLEM if problem else {})


@pytest.mark.parametrize(
    ("role", "target", "answer", "passes"),
    [
        ("viewer", "own", _answer(403, CompanyRoleNotAllowed.code), True),
        ("viewer", "own", _answer(403, "forbidden"), False),
        ("viewer", "own", _answer(200), False),
        ("viewer", "own", _answer(404, "escrow-not-found"), False),
        ("finance", "other", _answer(404, CompanyNotFound.code), True),
        ("finance", "other", _answer(403, CompanyRoleNotAllowed.code), False),
        ("viewer", "other", _answer(404, "escrow-not-found"), False),
        ("admin", "foreign", _answer(404, "escrow-not-found"), True),
        ("admin", "foreign", _answer(422, "invalid-input"), True),
        ("admin", "foreign", _answer(409, "invalid-transition"), False),
        ("admin", "foreign", _answer(200), False),
        ("admin", "foreign", _answer(404, "escrow-not-found", problem=False), False),
        ("owner", "own", _answer(500, "internal"), False),
    ],
)
def test_the_judge_fails_every_leak_and_every_wrong_refusal(
    role: str, target: str, answer: httpx.Response, passes: bool
) -> None:
    verdict = company.judge(_cell(RELEASE, "payments.move", role, target), answer)
    assert (verdict is None) is passes, verdict


def test_an_allowed_read_must_not_be_refused_nor_hidden() -> None:
    cell = _cell(MEMBERS, "members.read", "viewer", "own")
    assert company.judge(cell, _answer(200)) is None
    for status in (401, 403, 404):
        assert company.judge(cell, _answer(status, "nope")) is not None


def test_the_platform_matrix_admits_a_members_account_and_the_named_roles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = PublicRoute("contract", "GET", "/v1/contracts/{contract_id}", "signed in", False, "")
    monkeypatch.setattr(
        actions,
        "rules",
        lambda: {
            ("GET", read.path): actions.Rule("contracts.read", ("contractor",)),
            ("POST", RELEASE.path): actions.Rule("payments.move", ()),
        },
    )
    assert matrix.admitted(read) == {"client", "contractor"}
    assert matrix.admitted(RELEASE) == {"client"}
    assert matrix.expectation(matrix.Cell(RELEASE, "admin", "own")) == "refused"
