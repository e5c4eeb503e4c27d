"""The app factory's shared behaviour: problem+json, correlation ids, health."""

from __future__ import annotations

import pytest

from mindlinks_dev.harness import Running, run_services
from mindlinks_kit.app import create_app
from mindlinks_kit.declaration import Fleet
from mindlinks_kit.runtime import Runtime
from mindlinks_kit.settings import ServiceSettings


async def test_validation_errors_are_problem_json(toy: Running) -> None:
    response = await toy.client("alpha").post("/v1/alphas/make", json={"size": "big"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid-input"
    assert body["type"].endswith("/invalid-input")
    assert body["errors"][0]["location"] == ["body", "size"]


async def test_unknown_routes_and_methods_are_problem_json(toy: Running) -> None:
    missing = await toy.client("alpha").get("/v1/alphas/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not-found"
    wrong = await toy.client("alpha").delete("/v1/alphas/make")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_correlation_id_is_kept_or_created(toy: Running) -> None:
    given = await toy.client("alpha").get("/health/live", headers={"x-correlation-id": "abc"})
    assert given.headers["x-correlation-id"] == "abc"
    created = await toy.client("alpha").get("/health/live")
    assert len(created.headers["x-correlation-id"]) == 32


async def test_health_live_and_ready(toy: Running) -> None:
    live = await toy.client("beta").get("/health/live")
    assert live.json() == {"status": "ok", "service": "beta", "version": "0.1.0"}
    ready = await toy.client("beta").get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"table:seen": "ok", "table:inbox": "ok", "queue": "ok"}


async def test_internal_operations_need_a_service_token(toy: Running) -> None:
    response = await toy.client("alpha").get("/internal/ops/status")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


class OtherSettings(ServiceSettings):
    pass


def test_settings_as_refuses_another_settings_class(toy: Running) -> None:
    runtime: Runtime = toy.runtime("alpha")
    assert runtime.settings_as(ServiceSettings) is runtime.settings
    expected = f"create the app with {__name__}.OtherSettings"
    with pytest.raises(TypeError, match=expected):
        runtime.settings_as(OtherSettings)


async def test_what_setup_opened_is_closed_at_shutdown_newest_first(
    toy_fleet: Fleet, toy_settings: ServiceSettings
) -> None:
    closed: list[str] = []

    async def setup(runtime: Runtime) -> None:
        async def first() -> None:
            closed.append("first")

        async def broken() -> None:
            raise RuntimeError("a close that fails")

        async def last() -> None:
            closed.append("last")

        for close in (first, broken, last):
            runtime.close_at_shutdown(close)

    # The toy's auth: no queue, so this short-lived app takes no other test's events.
    app = create_app(
        fleet=toy_fleet, service="auth", settings=toy_settings, routers=[], setup=setup
    )
    async with run_services({"auth": lambda: app}):
        assert closed == []
    assert closed == ["last", "first"]  # the failing one kept none of the others open
