"""The smoke tests the deploy workflow runs against a baking deployment, on a
fake edge: what passes, what fails the service under test, and what leaves it
alone (its rollback is the caller's: deploy-service.sh, test_deploy_service)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx

from mindlinks_dev.deploy import smoke
from mindlinks_dev.deploy.smoke import READS, Account, service_report
from mindlinks_fleet import FLEET

BASE = "https://api.test"
PROBLEM = {"content-type": "application/problem+json"}
ACCOUNTS = {
    "client": Account("smoke-client@example.com", "client password"),
    "contractor": Account("smoke-contractor@example.com", "contractor password"),
}
TOKENS = {
    "smoke-client@example.com": "client-token",
    "smoke-contractor@example.com": "contractor-token",
}
ANSWERS = {
    "/v1/auth/me": {"id": "u1", "email": "smoke-client@example.com", "role": "client"},
    "/v1/users/me": {"userId": "u1", "email": "smoke-client@example.com"},
    "/v1/kyc/me": {"status": "not_started", "session": None},
    "/v1/contracts": {"items": []},
    "/v1/ledger/digest": {"treeSize": 3, "rootHash": "ab"},
    "/v1/payments/transactions": {"items": []},
    "/v1/notifications/me": {"items": []},
}
"""What a healthy fleet answers the smoke accounts (the rest: see problem())."""

Handler = Callable[[httpx.Request], httpx.Response]


def problem(status: int, code: str | None) -> httpx.Response:
    body = {"type": "about:blank", "title": "x", "status": status}
    if code is not None:  # the edge's own 404 carries no code
        body["code"] = code
    return httpx.Response(status, json=body, headers=PROBLEM)


def healthy(request: httpx.Request) -> httpx.Response:
    """A healthy edge: every area answers, reads need a token, the smoke
    accounts sign in and read."""
    path = request.url.path
    if path == "/.well-known/jwks.json":
        return httpx.Response(200, json={"keys": [{"kid": "k"}]})
    if path == "/v1/auth/login":
        body = json.loads(request.content)
        token = TOKENS.get(body["email"])
        if token is None or body["password"] not in ("client password", "contractor password"):
            return problem(401, "invalid-credentials")
        return httpx.Response(
            200, json={"accessToken": token, "refreshToken": "r", "expiresIn": 900}
        )
    if path.startswith(("/internal", "/health")) or "smoke-test-unknown-route" in path:
        return problem(404, None)
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if path not in {read.path for read in READS.values()}:
        return problem(404, None)
    if not token:
        return problem(401, "unauthorized")
    if path in ANSWERS:
        return httpx.Response(200, json=ANSWERS[path])
    if path == "/v1/clients/me":
        return problem(409, "company-required")
    if path == "/v1/contractors/me":
        return problem(404, "contractor-not-onboarded")
    if path.startswith("/v1/signatures/contracts/"):
        return problem(404, "contract-not-found")
    if path == "/v1/admin/users":
        return problem(403, "forbidden")
    raise AssertionError(path)


def client_for(handler: Handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), base_url=BASE)


def report(handler: Handler, service: str, accounts: dict[str, Account] = ACCOUNTS) -> smoke.Report:
    with client_for(handler) as client:
        return service_report(client, FLEET.service(service), accounts, sleep=lambda _: None)


def breaking(path: str, response: httpx.Response) -> Handler:
    """The healthy edge, but ``path`` answers a signed-in caller (or the
    sign-in itself) with ``response``."""

    def handler(request: httpx.Request) -> httpx.Response:
        signed_in = "authorization" in request.headers or path == "/v1/auth/login"
        if request.url.path.startswith(path) and signed_in:
            return response
        return healthy(request)

    return handler


def test_every_service_has_a_read_through_one_of_its_public_get_routes(root: Path) -> None:
    assert set(READS) == {s.name for s in FLEET.services}
    routes = {
        path
        for path, operations in json.loads((root / "docs/openapi.json").read_text())[
            "paths"
        ].items()
        if "get" in operations
    }
    for service, read in READS.items():
        template = read.path.replace(smoke.UNKNOWN_ID, "{contract_id}")
        assert template in routes, (service, read.path)
        assert template.startswith(f"/v1/{FLEET.service(service).area}"), service
        assert read.role in smoke.ROLES


@pytest.mark.parametrize("service", [s.name for s in FLEET.services])
def test_a_healthy_service_passes(service: str) -> None:
    assert report(healthy, service) == smoke.Report()


def test_a_healthy_edge_passes() -> None:
    with client_for(healthy) as client:
        assert smoke.edge_problems(client, FLEET) == []


def test_a_read_that_fails_fails_that_service_only() -> None:
    broken = breaking("/v1/payments/transactions", problem(500, "internal"))
    failed = report(broken, "payment")
    assert failed.exit_code == 1
    assert failed.problems == [
        "payment: GET /v1/payments/transactions as the smoke client: 500 internal"
    ]
    assert report(broken, "notification").exit_code == 0


def test_a_read_answered_by_the_edge_not_the_service_fails() -> None:
    """A 404 without the service's problem code: the route reaches no service."""
    assert report(breaking("/v1/clients/me", problem(404, None)), "client").exit_code == 1


def test_a_200_without_the_promised_fields_fails() -> None:
    answer = httpx.Response(200, json={"unexpected": True})
    failed = report(breaking("/v1/ledger/digest", answer), "ledger")
    assert failed.problems == [
        "ledger: GET /v1/ledger/digest as the smoke client: 200 without ['treeSize', 'rootHash']"
    ]


def test_a_route_that_does_not_refuse_anonymous_callers_fails() -> None:
    def open_route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/users/me":
            return httpx.Response(200, json=ANSWERS["/v1/users/me"])
        return healthy(request)

    failed = report(open_route, "user")
    assert failed.exit_code == 1
    assert "without a token: 200" in failed.problems[0]


def test_admin_must_refuse_a_clients_real_token() -> None:
    leaky = breaking("/v1/admin/users", httpx.Response(200, json={"items": []}))
    assert report(leaky, "admin").problems == [
        "admin: GET /v1/admin/users as the smoke client: 200 (want the service's 403)"
    ]


def test_a_failed_sign_in_blames_auth_only() -> None:
    down = breaking("/v1/auth/login", httpx.Response(503))
    user = report(down, "user")
    assert user.exit_code == 2  # inconclusive: deploy-service.sh leaves user alone
    assert user.problems == []
    assert "503" in user.inconclusive[0]
    assert report(down, "auth").exit_code == 1  # auth's own test: auth is rolled back


def test_sign_in_is_retried_while_auth_recovers() -> None:
    attempts: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/login" and len(attempts) < 2:
            attempts.append(1)
            return httpx.Response(503)
        return healthy(request)

    pauses: list[float] = []
    with client_for(flaky) as client:
        result = service_report(client, FLEET.service("kyc"), ACCOUNTS, sleep=pauses.append)
    assert result.exit_code == 0
    assert pauses == [smoke.SIGN_IN_PAUSE, smoke.SIGN_IN_PAUSE]


def test_wrong_credentials_are_not_retried() -> None:
    pauses: list[float] = []
    wrong = {"client": Account("smoke-client@example.com", "wrong")}
    with client_for(healthy) as client:
        result = service_report(client, FLEET.service("user"), wrong, sleep=pauses.append)
    assert result.exit_code == 2
    assert pauses == []
    assert "401 invalid-credentials" in result.inconclusive[0]


def test_a_missing_smoke_account_fails_loudly() -> None:
    result = report(healthy, "kyc", accounts={"client": ACCOUNTS["client"]})
    assert result.problems == [
        "kyc: no smoke contractor account (MINDLINKS_SMOKE_CONTRACTOR_EMAIL/_PASSWORD)"
    ]


def test_accounts_come_from_the_environment() -> None:
    environ = {
        "MINDLINKS_SMOKE_CLIENT_EMAIL": "c@example.com",
        "MINDLINKS_SMOKE_CLIENT_PASSWORD": "pw",
        "MINDLINKS_SMOKE_CONTRACTOR_EMAIL": "k@example.com",
    }
    assert smoke.accounts_from(environ) == {"client": Account("c@example.com", "pw")}


def test_a_reachable_internal_route_or_a_failing_area_fails_the_edge() -> None:
    def leaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/internal"):
            return httpx.Response(200, json={})
        if request.url.path.startswith("/v1/payments/"):
            return httpx.Response(503, headers=PROBLEM)
        return healthy(request)

    with client_for(leaky) as client:
        problems = smoke.edge_problems(client, FLEET)
    assert any("/internal/service-tokens reachable" in p for p in problems)
    assert any(p.startswith("payment") for p in problems)


def _route_all(router: respx.MockRouter, handler: Handler) -> None:
    router.route().mock(side_effect=handler)


@pytest.mark.parametrize(
    ("handler", "code"),
    [
        (healthy, 0),
        (breaking("/v1/contracts", problem(502, None)), 1),
        (breaking("/v1/auth/login", httpx.Response(500)), 2),
    ],
)
def test_the_command_exits_as_deploy_service_sh_expects(
    handler: Handler, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smoke, "SIGN_IN_PAUSE", 0.0)
    for role, account in ACCOUNTS.items():
        monkeypatch.setenv(f"MINDLINKS_SMOKE_{role.upper()}_EMAIL", account.email)
        monkeypatch.setenv(f"MINDLINKS_SMOKE_{role.upper()}_PASSWORD", account.password)
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        _route_all(router, handler)
        assert smoke.main([BASE, "--service", "contract"]) == code


def test_the_command_without_a_service_checks_the_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        _route_all(router, healthy)
        assert smoke.main([BASE]) == 0
        assert not any(call.request.url.path == "/v1/auth/login" for call in router.calls)


def test_no_reads_skips_the_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in smoke.ROLES:
        monkeypatch.delenv(f"MINDLINKS_SMOKE_{role.upper()}_EMAIL", raising=False)
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        _route_all(router, healthy)
        assert smoke.main([BASE, "--service", "user", "--no-reads"]) == 0
        assert smoke.main([BASE, "--service", "user"]) == 1  # no account: not silently skipped
