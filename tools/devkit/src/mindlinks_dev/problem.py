"""What every test checks of a refusal: the status, the problem+json body the
kit renders (RFC 9457) and, where the test names it, the stable ``code``."""

from __future__ import annotations

from typing import Any

import httpx


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
