"""The smoke tests the deploy workflow runs against a baking deployment."""

from __future__ import annotations

import httpx

from mindlinks_dev.deploy.smoke import smoke
from mindlinks_fleet import FLEET

PROBLEM = {"content-type": "application/problem+json"}


def _edge(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/.well-known/jwks.json":
        return httpx.Response(200, json={"keys": [{"kid": "k"}]})
    if path == "/v1/users/me":
        return httpx.Response(401, json={"status": 401}, headers=PROBLEM)
    return httpx.Response(404, json={"status": 404}, headers=PROBLEM)


def test_a_healthy_edge_passes() -> None:
    with httpx.Client(transport=httpx.MockTransport(_edge), base_url="https://api.test") as client:
        assert smoke(client, FLEET) == []


def test_a_reachable_internal_route_or_a_failing_service_fails() -> None:
    def leaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/internal"):
            return httpx.Response(200, json={})
        if request.url.path.startswith("/v1/payments/"):
            return httpx.Response(503, headers=PROBLEM)
        return _edge(request)

    with httpx.Client(transport=httpx.MockTransport(leaky), base_url="https://api.test") as client:
        problems = smoke(client, FLEET)
    assert any("/internal/service-tokens reachable" in p for p in problems)
    assert any(p.startswith("payment") for p in problems)
