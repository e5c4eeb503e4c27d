"""Fleet-wide input rules: one id type, one displayable-text type, a peer's
refusal passed on as what it means (never a 503), and an exact ``Allow``."""

from __future__ import annotations

import re
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Path
from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError

from mindlinks_kit.errors import Conflict, InvalidInput, NotFound, install_handlers
from mindlinks_kit.http import Peers, ServiceTokens, refusal
from mindlinks_kit.schemas import (
    CURSOR_PATTERN,
    FILLED_LONG_TEXT_PATTERN,
    FILLED_TEXT_PATTERN,
    ID_PATTERN,
    LONG_TEXT_PATTERN,
    MULTI_LINE,
    ONE_LINE,
    ApiModel,
    Cursor,
    Id,
    LongText,
    Text,
    one_line_without,
)


class Named(BaseModel):
    name: Text = Field(min_length=1, max_length=20)
    body: LongText = ""
    ref: Id | None = None


@pytest.mark.parametrize(
    "bad",
    ["Acme\x00", "Acme\u202eexe.pdf", "A\u2066b", "A\u200fb", "A\u061cb", "A\x85b", "A\nB", "\x7f"],
)
def test_text_refuses_control_and_bidi_characters(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Named(name=bad)
    assert "must not contain" in refused.value.errors()[0]["msg"]


def test_long_text_keeps_line_breaks_but_not_other_controls() -> None:
    assert Named(name="a", body="line one\nline two\r\n\ttab").body.count("\n") == 2
    for bad in ("a\x00", "a\u202eb", "a\x1bb", "a\x0cb"):
        with pytest.raises(ValidationError):
            Named(name="a", body=bad)


def test_text_is_normalised_to_nfc() -> None:
    decomposed = "Cafe\u0301 Zu\u0308rich"  # e + combining acute, u + combining diaeresis
    assert Named(name=decomposed).name == "Caf\u00e9 Z\u00fcrich"
    assert Named(name="a", body="Se\u0301ance").body == "S\u00e9ance"


def test_ids_have_one_bound() -> None:
    assert Named(name="a", ref="txn_" + "a" * 32).ref
    for bad in ("a" * 65, "", "a/b", "a.b", "a b", "é"):
        with pytest.raises(ValidationError):
            Named(name="a", ref=bad)


class Required(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), MULTI_LINE]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), ONE_LINE]
    note: LongText = ""


def test_a_required_text_field_documents_that_blank_is_refused() -> None:
    """``make fuzz`` found ``{"reason": "\u00a0"}`` valid by the schema and
    refused by the service (stripped to ""): a required field's pattern now
    asks for a character that is not white space."""
    properties = Required.model_json_schema()["properties"]
    assert properties["reason"]["pattern"] == FILLED_LONG_TEXT_PATTERN
    assert properties["title"]["pattern"] == FILLED_TEXT_PATTERN
    assert properties["note"]["pattern"] == LONG_TEXT_PATTERN
    for blank in ("   ", "\u00a0", "\u2003\u3000", "\n\t"):
        assert not re.match(FILLED_LONG_TEXT_PATTERN, blank)
        with pytest.raises(ValidationError):
            Required(reason=blank, title="t")
    for filled in ("a", " a ", "\u00a0x"):
        assert re.match(FILLED_LONG_TEXT_PATTERN, filled)
        assert Required(reason=filled, title=filled).reason == filled.strip()


def test_the_rules_are_in_the_json_schema() -> None:
    properties = Named.model_json_schema()["properties"]
    assert properties["name"]["pattern"] == FILLED_TEXT_PATTERN  # min_length=1
    assert properties["name"]["maxLength"] == 20
    assert "\\n" not in properties["body"]["pattern"][:12]  # line breaks are not excluded
    assert properties["ref"]["anyOf"][0]["pattern"] == ID_PATTERN

    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: Id, cursor: Cursor = None) -> dict[str, str]:
        return {}

    parameters = {
        p["name"]: p["schema"]
        for p in app.openapi()["paths"]["/things/{thing_id}"]["get"]["parameters"]
    }
    assert parameters["thing_id"]["pattern"] == ID_PATTERN
    assert parameters["cursor"]["pattern"] == CURSOR_PATTERN


# --- a peer's refusal --------------------------------------------------------


class Shape(ApiModel):
    size: int


def peer_app() -> FastAPI:
    """A real peer: its own problem+json answers."""
    app = FastAPI()
    install_handlers(app)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: Annotated[str, Path(max_length=8)]) -> dict[str, str]:
        if thing_id == "gone":
            raise NotFound("No such thing")
        if thing_id == "busy":
            raise Conflict("The thing is busy")
        if thing_id == "limited":
            raise InvalidInput("Too many things")
        return {"id": thing_id}

    @app.get("/things/{thing_id}/strict/{size}")
    async def strict(thing_id: Id, size: int) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/closed")
    async def closed() -> dict[str, str]:
        from mindlinks_kit.errors import Forbidden

        raise Forbidden("Not for you")

    return app


def caller_app() -> tuple[FastAPI, Peers]:
    async def token() -> tuple[str, float]:
        return "service-token", 1e12

    peers = Peers(
        template="http://{name}:{port}",
        ports={"beta": 1},
        allowed={"beta"},
        client=httpx.AsyncClient(),
        timeout=2,
    )
    peers.tokens = ServiceTokens(token)
    peers.mount("beta", httpx.ASGITransport(app=peer_app()))
    app = FastAPI()
    install_handlers(app)

    @app.get("/v1/ask")
    async def ask(path: str) -> dict[str, str]:
        response = await peers.request("beta", "GET", path)
        if response.status_code != 200:
            raise refusal("beta", response)
        return dict(response.json())

    return app, peers


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/things/gone", 404, "not-found"),
        ("/things/busy", 409, "conflict"),
        ("/things/limited", 422, "invalid-input"),
        ("/things/x/strict/notanumber", 422, "invalid-input"),  # the peer's own validation
        ("/things/" + "a" * 200 + "/strict/1", 422, "invalid-input"),  # an id too long for it
        ("/closed", 502, "peer-error"),  # the peer refused *our* credential: our fault
        ("/nowhere", 404, "not-found"),
    ],
)
async def test_a_peer_refusal_is_passed_on_never_as_503(path: str, status: int, code: str) -> None:
    app, peers = caller_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/v1/ask", params={"path": path})
    await peers.aclose()
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["peer"] == "beta"
    assert response.headers["content-type"] == "application/problem+json"


def test_a_throttled_peer_is_unavailable() -> None:
    problem = refusal("beta", httpx.Response(429))
    assert problem.body()["status"] == 503


# --- 405 ------------------------------------------------------------------------


def two_route_app() -> FastAPI:
    """Routes as the services declare them: on routers, included in the app."""
    app = FastAPI()
    install_handlers(app)
    reads, writes = APIRouter(prefix="/v1/me"), APIRouter(prefix="/v1/me")

    @reads.get("")
    async def read() -> dict[str, str]:
        return {}

    @writes.patch("")
    async def change() -> dict[str, str]:
        return {}

    @writes.post("/things/{thing_id}")
    async def act(thing_id: Id) -> dict[str, str]:
        return {}

    # A fixed path beside a parameter that would also match it.
    @reads.get("/things/templates")
    async def templates() -> dict[str, str]:
        return {}

    @writes.put("/things/templates")
    async def add_template() -> dict[str, str]:
        return {}

    app.include_router(reads)
    app.include_router(writes)
    return app


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/me", "GET, PATCH"),
        ("DELETE", "/v1/me", "GET, PATCH"),
        ("OPTIONS", "/v1/me", "GET, PATCH"),
        ("GET", "/v1/me/things/abc", "POST"),
        ("OPTIONS", "/v1/me/things/abc", "POST"),
        # Its own methods only, as the OpenAPI lists them: not the parameter's.
        ("OPTIONS", "/v1/me/things/templates", "GET, PUT"),
    ],
)
async def test_a_wrong_method_answers_405_with_every_allowed_method(
    method: str, path: str, allow: str
) -> None:
    transport = httpx.ASGITransport(app=two_route_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["code"] == "method-not-allowed"


def test_one_line_without_refuses_its_characters_and_says_so_in_one_pattern() -> None:
    name = Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1),
        one_line_without(r"/\\:", "path characters"),
    ]
    adapter = TypeAdapter(name)
    assert adapter.validate_python(" report.pdf ") == "report.pdf"
    for bad in ("a/b", "a\\b", "c:d", "line\nbreak", "\u202eexe.pdf", "   "):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
    pattern = re.compile(adapter.json_schema()["pattern"])
    assert pattern.match("report.pdf")
    assert not pattern.match("a/b")
    assert not pattern.match("   ")


def test_a_longer_minimum_is_in_the_pattern_once_stripped() -> None:
    """``min_length`` counts what is left after stripping; ``minLength`` alone
    would promise that "\\r ab" (3 characters, 2 once stripped) is accepted."""
    text = TypeAdapter(
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3), MULTI_LINE]
    )
    pattern = re.compile(text.json_schema()["pattern"])
    for value in ("abc", "a b", " a  b "):
        assert pattern.match(value)
        assert text.validate_python(value)
    for value in ("\r ab", " ab ", "ab"):
        assert not pattern.match(value)
        with pytest.raises(ValidationError):
            text.validate_python(value)
