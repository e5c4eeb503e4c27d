"""Raw request bodies (a PDF, a time-stamp query) read with a size limit."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from mindlinks_kit.errors import Problem


async def read_limited(request: Request, limit: int, too_large: Callable[[], Problem]) -> bytes:
    """The whole body, refused with ``too_large()`` past ``limit`` bytes: at
    once when ``Content-Length`` says so, else as soon as the stream does
    (a chunked upload cannot make the process hold more than ``limit``)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)
