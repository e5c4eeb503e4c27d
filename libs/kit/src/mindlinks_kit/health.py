"""``/health/live`` (the process answers) and ``/health/ready`` (its tables,
Redis and queue answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mindlinks_kit.errors import PROBLEM_JSON, problem_body
from mindlinks_kit.runtime import Runtime

health = APIRouter(tags=["health"], include_in_schema=False)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@health.get("/health/live")
async def live(request: Request) -> dict[str, str]:
    runtime = _runtime(request)
    return {"status": "ok", "service": runtime.service.name, "version": runtime.settings.version}


async def _check(probe: Awaitable[Any]) -> str:
    try:
        await asyncio.wait_for(probe, timeout=2.0)
    except Exception as exc:
        return f"failed: {type(exc).__name__}"
    return "ok"


@health.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    probes: dict[str, Awaitable[Any]] = {
        f"table:{name}": table.reachable() for name, table in runtime.tables.items()
    }
    if runtime.redis is not None:
        probes["redis"] = runtime.redis.ping()
    if runtime.consumer is not None:
        probes["queue"] = runtime.aws.sqs.get_queue_attributes(
            QueueUrl=runtime.consumer.queue_url, AttributeNames=["QueueArn"]
        )
    results = dict(
        zip(probes, await asyncio.gather(*(_check(p) for p in probes.values())), strict=True)
    )
    if all(result == "ok" for result in results.values()):
        return JSONResponse({"status": "ready", "checks": results})
    body = problem_body(
        503, "not-ready", "The service is not ready", "A dependency did not answer", checks=results
    )
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)
