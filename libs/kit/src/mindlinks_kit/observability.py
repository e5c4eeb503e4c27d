"""Logs, metrics and traces, set up once per process.

- structlog JSON lines on stdout (CloudWatch Logs via awslogs);
- CloudWatch Embedded Metric Format records in the same stream (no API calls);
- OpenTelemetry with X-Ray ids and propagation, exported over OTLP only when an
  endpoint is configured.
Observability degrades, never crashes the process.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from mindlinks_kit.context import current

_SECRET_KEYS = frozenset(
    {
        "password",
        "token",
        "authorization",
        "secret",
        "refresh_token",
        "access_token",
        "iban",
        "account_number",
        "code",
    }
)


def _add_request_context(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ctx = current.get()
    if ctx is not None:
        event.setdefault("correlation_id", ctx.correlation_id)
        if ctx.user_id:
            event.setdefault("user_id", ctx.user_id)
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event.setdefault("trace_id", format(span.trace_id, "032x"))
    return event


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_request_context,
            _redact,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


class Metrics:
    """CloudWatch Embedded Metric Format: one JSON line, no API call."""

    def __init__(self, service: str, namespace: str = "MindLinks") -> None:
        self.service = service
        self.namespace = namespace

    def emit(
        self,
        values: dict[str, float],
        dimensions: dict[str, str] | None = None,
        unit: str = "Count",
    ) -> None:
        dims = {"Service": self.service, **(dimensions or {})}
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dims)],
                        "Metrics": [{"Name": name, "Unit": _unit(name, unit)} for name in values],
                    }
                ],
            },
            **dims,
            **values,
        }
        try:
            sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
        except (OSError, ValueError):  # a closed stdout must never break a request
            return

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self.emit({name: value}, dimensions)


def _unit(name: str, default: str) -> str:
    return "Milliseconds" if name.endswith("Latency") else default


def configure_tracing(service: str, version: str, endpoint: str | None) -> trace.Tracer:
    """X-Ray compatible ids and propagation always; export only when configured."""
    propagate.set_global_textmap(AwsXRayPropagator())
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.version": version}),
        id_generator=AwsXRayIdGenerator(),
    )
    if endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
            provider.add_span_processor(BatchSpanProcessor(exporter))
        except Exception:
            structlog.get_logger().warning("tracing.exporter_unavailable", endpoint=endpoint)
    return provider.get_tracer(service)
