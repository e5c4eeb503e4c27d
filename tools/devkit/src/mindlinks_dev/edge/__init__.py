"""The local edge: what API Gateway and the ALB do in AWS, on one port.

It routes ``/v1/<area>/...`` and each service's extra public paths to that
service's process and never ``/internal/...`` or ``/health/...`` of a service;
answers CORS for the dashboards; limits each client IP with a token bucket;
turns a service that is down into problem+json; serves the merged OpenAPI at
``/openapi.json`` with Swagger UI at ``/docs``, and its own ``/health/live``.

``mindlinks-local`` runs it as
``uvicorn --factory mindlinks_dev.edge:from_environment --no-access-log``
(the edge writes its own access log).
"""

from mindlinks_dev.edge.app import Edge, create_edge, from_environment
from mindlinks_dev.edge.limits import RateLimiter
from mindlinks_dev.edge.routing import (
    Routes,
    Upstream,
    correlation_id,
    forward_headers,
    response_headers,
    routes_for,
)
from mindlinks_dev.edge.settings import DEFAULT_ORIGINS, EdgeSettings, split_names

__all__ = [
    "DEFAULT_ORIGINS",
    "Edge",
    "EdgeSettings",
    "RateLimiter",
    "Routes",
    "Upstream",
    "correlation_id",
    "create_edge",
    "forward_headers",
    "from_environment",
    "response_headers",
    "routes_for",
    "split_names",
]
