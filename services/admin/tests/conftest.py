"""The admin service's tests run the whole fleet in-process — every installed
service's real app against the moto server and the real Redis, peers wired to
each other (``platform``) — so every admin call reaches the real internal
routes of docs/admin.md. The first admin is made the operators' way (auth's
``Accounts.create_admin``, no public route) and signs in through auth's login.

Parties (companies, contractors, contracts) are made the production way
through the dashboards' routes (``mindlinks_dev.parties``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest

from mindlinks_dev import totp
from mindlinks_dev.harness import Running
from mindlinks_dev.parties import Parties
from mindlinks_dev.people import PASSWORD
from mindlinks_dev.problem import problem
from mindlinks_dev.stand_ins import Directory


class Desk:
    """An admin at the admin service, and the parties they look after."""

    def __init__(self, fleet: Running, headers: dict[str, str], user_id: str) -> None:
        self.fleet = fleet
        self.headers = headers
        self.user_id = user_id
        self.parties = Parties(fleet, Directory())

    @property
    def http(self) -> httpx.AsyncClient:
        return self.fleet.client("admin")

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"/v1/admin{path}", params=params, headers=self.headers)

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(f"/v1/admin{path}", json=body, headers=self.headers)

    async def audit(self, **filters: Any) -> list[dict[str, Any]]:
        response = await self.get("/audit", **filters)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def new_admin(self) -> tuple[str, dict[str, str]]:
        """Another admin, made with auth's account creation for admins (TOTP
        on from the start), signed in with a one-time code."""
        accounts = self.fleet.deps("auth").accounts
        email = f"{uuid.uuid4().hex}@ops.example.com"
        secret = totp.new_secret()
        user = await accounts.create_admin(
            email=email, password=PASSWORD, name="Ops Admin", mfa_secret=secret
        )
        response = await self.fleet.client("auth").post(
            "/v1/auth/login",
            json={"email": email, "password": PASSWORD, "mfaCode": totp.code(secret)},
        )
        assert response.status_code == 200, response.text
        return user.id, {"authorization": f"Bearer {response.json()['accessToken']}"}

    @contextmanager
    def redirected(self, service: str, port: int) -> Iterator[None]:
        """The admin reaches ``service`` over real sockets at ``port`` instead of
        the in-process app; afterwards the app again, with a closed breaker."""
        peers = self.fleet.runtime("admin").peers
        ports = peers.ports
        peers.ports = {**ports, service: port}
        peers.mount(service, httpx.AsyncHTTPTransport())
        try:
            yield
        finally:
            peers.ports = ports
            peers.mount(service, httpx.ASGITransport(app=self.fleet.apps[service]))
            peers.breakers[service].close()

    @contextmanager
    def failing(self, service: str, method: str, path: str) -> Iterator[None]:
        """``service`` answers ``503`` to ``method path`` and serves everything
        else; afterwards a closed breaker again."""
        peers = self.fleet.runtime("admin").peers
        app = httpx.ASGITransport(app=self.fleet.apps[service])
        peers.mount(service, FailingRoute(app, method, path))
        try:
            yield
        finally:
            peers.mount(service, app)
            peers.breakers[service].close()

    def stopped(self, service: str) -> AbstractContextManager[None]:
        """``service`` as the admin sees a stopped one: its port refuses connections."""
        return self.redirected(service, closed_port())

    problem = staticmethod(problem)


class FailingRoute(httpx.AsyncBaseTransport):
    """One route of a peer failing (``503``) while the peer serves the rest."""

    def __init__(self, app: httpx.AsyncBaseTransport, method: str, path: str) -> None:
        self.app = app
        self.method = method
        self.path = path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == (self.method, self.path):
            return httpx.Response(503, json={"code": "unavailable"})
        return await self.app.handle_async_request(request)


def closed_port() -> int:
    """A local port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
async def desk(platform: Running) -> Desk:
    bootstrap = Desk(platform, {}, "")
    user_id, headers = await bootstrap.new_admin()
    return Desk(platform, headers, user_id)
