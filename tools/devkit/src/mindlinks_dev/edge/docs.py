"""The edge's API docs: Swagger UI over the merged ``/openapi.json``, with
Swagger UI's own JavaScript and CSS served by the edge from a pinned package
(fastapi-swagger ships them), not a CDN: ``/docs`` works offline, on a plane
or behind a proxy that blocks CDNs."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi.openapi.docs import get_swagger_ui_html

DOCS_ASSETS = "/docs/assets/"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@cache
def swagger_page() -> bytes:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Mind-Links API (local)",
        swagger_js_url=f"{DOCS_ASSETS}swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}favicon-32x32.png",
    )
    return bytes(page.body)


@cache
def swagger_asset(name: str) -> tuple[bytes, str] | None:
    """One of Swagger UI's files and its media type; ``None`` for any other name."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        return None
    return resources.files("fastapi_swagger.resources").joinpath(name).read_bytes(), media_type
