"""The edge's pure parts: the route table from the fleet, header rules, the limiter."""

from __future__ import annotations

import pytest

from mindlinks_dev.edge import (
    EdgeSettings,
    RateLimiter,
    correlation_id,
    forward_headers,
    from_environment,
    response_headers,
    routes_for,
)
from mindlinks_fleet import FLEET


def test_every_fleet_area_routes_to_its_service() -> None:
    names = [s.name for s in FLEET.services]
    routes = routes_for(FLEET, names, "http://127.0.0.1:{port}")
    for service in FLEET.services:
        upstream = routes.resolve(f"/v1/{service.area}/anything")
        assert upstream is not None
        assert upstream.service.name == service.name
        assert upstream.url == f"http://127.0.0.1:{service.port}"
        for path in service.extra_public_paths:
            extra = routes.resolve(path)
            assert extra is not None
            assert extra.service.name == service.name
    jwks = routes.resolve("/.well-known/jwks.json")
    assert jwks is not None
    assert jwks.service.name == "auth"
    assert [u.service.name for u in routes.upstreams] == sorted(names)


def test_only_the_given_services_are_routed() -> None:
    routes = routes_for(FLEET, ["user"], "http://{name}:{port}")
    user = routes.resolve("/v1/users/me")
    assert user is not None
    assert user.url == "http://user:3002"
    assert routes.resolve("/v1/auth/login") is None
    assert routes.resolve("/.well-known/jwks.json") is None


@pytest.mark.parametrize(
    "path",
    [
        "/internal/ops/status",
        "/health/ready",
        "/v1/users/../../internal/x",
        "/v1/users/./x",
        "/users/me",
        "/V1/users/me",
        "/v2/users/me",
    ],
)
def test_non_public_paths_resolve_to_nothing(path: str) -> None:
    routes = routes_for(FLEET, ["user", "auth"], "http://127.0.0.1:{port}")
    assert routes.resolve(path) is None


def test_unknown_services_are_an_error() -> None:
    with pytest.raises(KeyError):
        routes_for(FLEET, ["nobody"], "http://127.0.0.1:{port}")


def test_forward_headers() -> None:
    headers = forward_headers(
        [
            (b"host", b"localhost:8080"),
            (b"connection", b"close, X-Private"),
            (b"x-private", b"1"),
            (b"transfer-encoding", b"chunked"),
            (b"content-length", b"3"),
            (b"x-forwarded-for", b"198.51.100.1"),
            (b"x-forwarded-proto", b"https"),
            (b"x-correlation-id", b"spoofed"),
            (b"cookie", b"a=1"),
        ],
        client="203.0.113.7",
        scheme="http",
        correlation="c-1",
    )
    assert headers == [
        (b"cookie", b"a=1"),
        (b"x-forwarded-for", b"198.51.100.1, 203.0.113.7"),
        (b"x-forwarded-proto", b"http"),
        (b"x-correlation-id", b"c-1"),
        (b"x-forwarded-host", b"localhost:8080"),
    ]


def test_response_headers() -> None:
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", b"999"),
        (b"transfer-encoding", b"chunked"),
        (b"access-control-allow-origin", b"*"),
        (b"set-cookie", b"a=1"),
        (b"x-correlation-id", b"c-up"),
        (b"date", b"Sun, 22 Nov 2026 02:31:38 GMT"),
        (b"server", b"uvicorn"),
    ]
    assert response_headers(raw, length=2, correlation="c-1") == [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"a=1"),
        (b"x-correlation-id", b"c-up"),
        (b"content-length", b"2"),
    ]
    head = response_headers(raw[:2], length=None, correlation="c-1")  # HEAD keeps the length
    assert head == [*raw[:2], (b"x-correlation-id", b"c-1")]


def test_correlation_ids() -> None:
    assert correlation_id("abc-123") == "abc-123"
    for bad in (None, "", "x" * 129, "line\nbreak"):
        created = correlation_id(bad)
        assert len(created) == 32
        assert created != bad


def test_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert limiter.acquire("b") == 0.0
    now[0] += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    now[0] += 100.0  # refills to the burst, not beyond
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0
    assert RateLimiter(rate=0, burst=1).acquire("a") == 0.0


def test_the_limiter_forgets_idle_clients() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=1, clock=lambda: now[0], max_keys=2)
    limiter.acquire("a")
    limiter.acquire("b")
    now[0] += 5.0
    limiter.acquire("c")
    assert set(limiter._buckets) == {"c"}


def test_edge_settings_read_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINDLINKS_EDGE_SERVICES", "auth, user")
    monkeypatch.setenv("MINDLINKS_EDGE_CORS_ORIGINS", "http://localhost:3000,http://a.test")
    monkeypatch.setenv("MINDLINKS_EDGE_RATE_PER_SECOND", "5")
    monkeypatch.setenv("MINDLINKS_PEER_URL_TEMPLATE", "http://{name}:{port}")
    settings = EdgeSettings()
    assert settings.services == ["auth", "user"]
    assert settings.cors_origins == ["http://localhost:3000", "http://a.test"]
    assert settings.rate_per_second == 5.0
    assert settings.peer_url_template == "http://{name}:{port}"
    monkeypatch.setenv("MINDLINKS_EDGE_SERVICES", "")
    assert EdgeSettings().services == []


def test_the_uvicorn_factory_routes_the_given_services_or_the_fleet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINDLINKS_EDGE_SERVICES", raising=False)
    monkeypatch.setenv("MINDLINKS_PEER_URL_TEMPLATE", "http://{name}:{port}")
    everything = from_environment().routes
    assert {u.service.name for u in everything.upstreams} == {s.name for s in FLEET.services}
    monkeypatch.setenv("MINDLINKS_EDGE_SERVICES", "auth")
    routes = from_environment().routes
    assert [u.url for u in routes.upstreams] == ["http://auth:3001"]
