"""Reading a list route to its end, as the tests of the admin service's lists
do: the session's tables are shared by every test, so a test reads every page
and looks for what it made, never for exact contents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

MOST_PAGES = 500
"""More pages than any test's list has: a cursor that never ends fails the test."""


async def read_all(
    http: httpx.AsyncClient,
    path: str,
    headers: Mapping[str, str],
    limit: int,
    **params: Any,
) -> list[dict[str, Any]]:
    """Every item of ``GET path``, page after page of at most ``limit``
    following ``nextCursor``; each page is asserted to be a ``200`` within
    its limit."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MOST_PAGES):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await http.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            return items
    raise AssertionError("the list never ended")
