"""The dev kit's helpers for the services' tests hold a test to what it
claims: a paged list is read to its end and no page may pass its limit; a
route that lets in anyone besides a user fails the test; the outside boundary
refuses a call nobody mocked."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from mindlinks_dev.lists import read_all
from mindlinks_dev.problem import NOT_A_JWT, needs_a_user_token

ITEMS = [{"id": str(n)} for n in range(5)]


def paged(extra_on_first_page: int = 0) -> httpx.MockTransport:
    """``GET /things``: ``ITEMS`` by pages of ``limit``, the cursor the next
    offset; the first page carries ``extra_on_first_page`` more than asked."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer admin"
        assert request.url.params["colour"] == "blue"
        limit = int(request.url.params["limit"])
        start = int(request.url.params.get("cursor", "0"))
        end = start + limit + (extra_on_first_page if start == 0 else 0)
        cursor = str(end) if end < len(ITEMS) else None
        return httpx.Response(200, json={"items": ITEMS[start:end], "nextCursor": cursor})

    return httpx.MockTransport(handle)


async def test_read_all_follows_the_cursor_to_the_end() -> None:
    async with httpx.AsyncClient(transport=paged(), base_url="http://svc") as http:
        items = await read_all(http, "/things", {"authorization": "Bearer admin"}, 2, colour="blue")
    assert items == ITEMS


async def test_read_all_fails_on_a_page_over_its_limit() -> None:
    async with httpx.AsyncClient(transport=paged(1), base_url="http://svc") as http:
        with pytest.raises(AssertionError):
            await read_all(http, "/things", {"authorization": "Bearer admin"}, 2, colour="blue")


async def test_read_all_fails_on_a_list_that_never_ends() -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [], "nextCursor": "again"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(endless)) as http:
        with pytest.raises(AssertionError, match="never ended"):
            await read_all(http, "http://svc/things", {}, 10)


def refusing(letting_in: str | None = None) -> httpx.MockTransport:
    """Every caller refused as the kit refuses them (401 problem), but the
    bearer ``letting_in``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if letting_in and request.headers.get("authorization") == f"Bearer {letting_in}":
            return httpx.Response(200, json={})
        body = {"type": "/problems/unauthorized", "status": 401, "code": "unauthorized"}
        return httpx.Response(
            401, content=json.dumps(body), headers={"content-type": "application/problem+json"}
        )

    return httpx.MockTransport(handle)


async def test_needs_a_user_token_passes_when_each_caller_is_refused() -> None:
    service = {"authorization": "Bearer service"}
    async with httpx.AsyncClient(transport=refusing(), base_url="http://svc") as http:
        await needs_a_user_token(http, "POST", "/me", service, NOT_A_JWT, json={"a": 1})


async def test_needs_a_user_token_fails_when_a_service_token_is_let_in() -> None:
    service = {"authorization": "Bearer service"}
    async with httpx.AsyncClient(transport=refusing("service"), base_url="http://svc") as http:
        with pytest.raises(AssertionError):
            await needs_a_user_token(http, "GET", "/me", service)


async def test_the_outside_boundary_refuses_a_call_nobody_mocked(
    http: httpx.AsyncClient, outside: respx.MockRouter
) -> None:
    outside.get("https://registry.example/ok").mock(return_value=httpx.Response(204))
    assert (await http.get("https://registry.example/ok")).status_code == 204
    with pytest.raises(AssertionError, match="not mocked"):
        await http.get("https://registry.example/elsewhere")
