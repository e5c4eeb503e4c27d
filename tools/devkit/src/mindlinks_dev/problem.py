"""What every test checks of a refusal: the status, the problem+json body the
kit renders (RFC 9457) and, where the test names it, the stable ``code``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

NOT_A_JWT: Mapping[str, str] = {"authorization": "Bearer not-a-jwt"}
"""A bearer no token check can even parse."""


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The problem body of ``response``, asserted to be a ``status`` refusal
    (with ``code``, when given); fails the test with the body otherwise."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    if code is not None:
        assert body["code"] == code, body
        assert body["type"].endswith(code), body
    return body


async def needs_a_user_token(
    http: httpx.AsyncClient, method: str, path: str, *others: Mapping[str, str], json: Any = None
) -> None:
    """``method path`` lets in a user's access token only: called without a
    token, then with each of ``others`` (a service's token, one that is no
    JWT), it answers each time with a 401 ``unauthorized`` problem."""
    for headers in ({}, *others):
        response = await http.request(method, path, json=json, headers=headers)
        problem(response, 401, "unauthorized")
