"""Document errors as they are sent: ``application/problem+json`` bodies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mindlinks_kit.errors import PROBLEM_JSON
from mindlinks_kit.schemas import ProblemDetails

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemDetails, "description": "The request is not valid"},
    "default": {"model": ProblemDetails, "description": "A problem (RFC 9457)"},
}


def document_problems(app: FastAPI) -> None:
    """Move the problem responses FastAPI documents as ``application/json`` to
    ``application/problem+json``, which is what the error handlers send."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if (status == "default" or status[0] in "45") and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
