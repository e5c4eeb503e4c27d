"""Merging the services' OpenAPI documents into the public one."""

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from mindlinks_dev import openapi
from mindlinks_dev.openapi import merge_openapi, render
from mindlinks_kit.declaration import Service

AUTH = Service("auth", port=1, area="auth", extra_public_paths=("/.well-known/jwks.json",))
USER = Service("user", port=2, area="users")


class Money(BaseModel):
    amount_minor: int
    currency: str


def auth_app() -> FastAPI:
    class Profile(BaseModel):
        id: str
        email: str

    class ProfilePage(BaseModel):
        items: list[Profile]

    class Mail(BaseModel):
        subject: str

    class ServiceTokenRequest(BaseModel):
        service: str
        secret: str

    app = FastAPI()

    @app.get("/v1/auth/profiles")
    async def profiles() -> ProfilePage:
        return ProfilePage(items=[])

    @app.get("/v1/auth/balance")
    async def balance() -> Money:
        return Money(amount_minor=1, currency="EUR")

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, list[str]]:
        return {"keys": []}

    @app.get("/v1/auth/dev/mailbox")
    async def mailbox() -> list[Mail]:
        return []

    @app.post("/internal/auth/service-tokens")
    async def service_tokens(request: ServiceTokenRequest) -> dict[str, str]:
        return {"token": "t"}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {}

    return app


def user_app() -> FastAPI:
    class Profile(BaseModel):  # same name, other content
        user_id: str
        display_name: str

    class ProfilePage(BaseModel):  # same content, but its Profile is another one
        items: list[Profile]

    app = FastAPI()

    @app.get("/v1/users/profiles")
    async def profiles() -> ProfilePage:
        return ProfilePage(items=[])

    @app.put("/v1/users/me", tags=["me"])
    async def update(profile: Profile) -> Money:
        return Money(amount_minor=1, currency="EUR")

    @app.get("/v1/auth/not-mine")  # another service's area: the edge never routes it here
    async def not_mine() -> dict[str, str]:
        return {}

    return app


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def schema_ref(operation: dict[str, Any]) -> str:
    ref: str = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return ref


@pytest.fixture(scope="module")
def documents() -> list[tuple[Service, dict[str, Any]]]:
    return [(USER, user_app().openapi()), (AUTH, auth_app().openapi())]


def test_keeps_only_the_public_paths(documents: list[tuple[Service, dict[str, Any]]]) -> None:
    merged = merge_openapi(documents)
    assert sorted(merged["paths"]) == [
        "/.well-known/jwks.json",
        "/v1/auth/balance",
        "/v1/auth/profiles",
        "/v1/users/me",
        "/v1/users/profiles",
    ]
    schemas = merged["components"]["schemas"]
    assert "ServiceTokenRequest" not in schemas  # only reachable from /internal
    assert "Mail" not in schemas  # only reachable from a local-only /dev/ route
    assert merged["info"]["title"] == "Mind-Links API"
    assert merged["servers"] == [{"url": "https://api.mindlinks.com"}]


def test_dev_routes_can_be_kept_for_the_local_edge(
    documents: list[tuple[Service, dict[str, Any]]],
) -> None:
    merged = merge_openapi(documents, include_dev=True)
    assert "/v1/auth/dev/mailbox" in merged["paths"]
    assert "Mail" in merged["components"]["schemas"]
    assert "/internal/auth/service-tokens" not in merged["paths"]


def test_a_clash_prefixes_each_variant_and_rewrites_refs(
    documents: list[tuple[Service, dict[str, Any]]],
) -> None:
    merged = merge_openapi(documents)
    schemas = merged["components"]["schemas"]
    assert "Profile" not in schemas
    assert set(schemas["AuthProfile"]["properties"]) == {"id", "email"}
    assert set(schemas["UserProfile"]["properties"]) == {"user_id", "display_name"}
    # ProfilePage has one content in both services until its Profile is renamed
    assert "ProfilePage" not in schemas
    auth_items = schemas["AuthProfilePage"]["properties"]["items"]["items"]["$ref"]
    assert auth_items == "#/components/schemas/AuthProfile"
    user_items = schemas["UserProfilePage"]["properties"]["items"]["items"]["$ref"]
    assert user_items == "#/components/schemas/UserProfile"
    paths = merged["paths"]
    assert schema_ref(paths["/v1/auth/profiles"]["get"]) == "#/components/schemas/AuthProfilePage"
    assert schema_ref(paths["/v1/users/profiles"]["get"]) == "#/components/schemas/UserProfilePage"
    body = paths["/v1/users/me"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/UserProfile"
    # identical content under one name is shared, not prefixed
    assert "Money" in schemas
    assert "HTTPValidationError" in schemas
    # every reference resolves
    for ref in refs(merged):
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in merged["components"][section], ref


def test_operations_are_tagged_by_service_unless_tagged(
    documents: list[tuple[Service, dict[str, Any]]],
) -> None:
    paths = merge_openapi(documents)["paths"]
    assert paths["/v1/auth/profiles"]["get"]["tags"] == ["auth"]
    assert paths["/v1/users/me"]["put"]["tags"] == ["me"]


def test_the_document_is_deterministic_and_valid(
    documents: list[tuple[Service, dict[str, Any]]],
) -> None:
    text = render(merge_openapi(documents))
    assert text == render(merge_openapi(list(reversed(documents))))
    assert text.endswith("}\n")
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(merge_openapi(documents))


def test_a_path_served_twice_is_an_error() -> None:
    twice = Service("other", port=3, area="other", extra_public_paths=("/.well-known/jwks.json",))
    document = auth_app().openapi()
    with pytest.raises(ValueError, match="jwks"):
        merge_openapi([(AUTH, document), (twice, document)])


def test_write_then_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    document = merge_openapi([(AUTH, auth_app().openapi())])
    local = openapi.local_only(merge_openapi([(AUTH, auth_app().openapi())], include_dev=True))
    monkeypatch.setattr(openapi, "build_both", lambda fleet: (document, local, ["user"]))
    output = tmp_path / "docs" / "openapi.json"
    assert openapi.main(["--check", "--output", str(output)]) == 1  # missing
    assert openapi.main(["--write", "--output", str(output)]) == 0
    assert output.read_text() == render(document)
    stand_ins = output.parent / "openapi.local.json"
    assert stand_ins.read_text() == render(local)
    assert list(local["paths"]) == ["/v1/auth/dev/mailbox"]  # only the local stand-ins
    assert "/v1/auth/dev/mailbox" not in document["paths"]
    assert openapi.main(["--check", "--output", str(output)]) == 0
    output.write_text(output.read_text().replace("Mind-Links API", "Old API"))
    assert openapi.main(["--check", "--output", str(output)]) == 1
    output.write_text(render(document))
    stand_ins.write_text("{}")
    assert openapi.main(["--check", "--output", str(output)]) == 1


def test_the_workspace_root_is_found_from_anywhere(tmp_path: Path) -> None:
    root = openapi.repo_root(Path(__file__).parent)
    assert (root / "libs" / "fleet").is_dir()
    assert openapi.repo_root(tmp_path) == root  # outside the workspace: this package's
