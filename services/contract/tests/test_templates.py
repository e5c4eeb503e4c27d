"""Templates: a company's own, validated placeholders."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Parties


async def test_a_client_keeps_its_companys_templates(world: Parties) -> None:
    client = await world.client()
    other = await world.client()
    contract_api = world.fleet.client("contract")
    made = []
    for name in ("NDA", "Services"):
        response = await contract_api.post(
            "/v1/contracts/templates",
            headers=client.headers,
            json={"name": name, "body": "{{clientName}} hires {{contractorName}}."},
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    assert made[0]["companyId"] == client.company_id
    assert made[0]["placeholders"] == ["clientName", "contractorName", "title", "startDate"]

    page = await contract_api.get(
        "/v1/contracts/templates", params={"limit": 1}, headers=client.headers
    )
    assert [t["id"] for t in page.json()["items"]] == [made[1]["id"]]
    rest = await contract_api.get(
        "/v1/contracts/templates",
        params={"limit": 1, "cursor": page.json()["nextCursor"]},
        headers=client.headers,
    )
    assert [t["id"] for t in rest.json()["items"]] == [made[0]["id"]]
    assert rest.json()["nextCursor"] is None

    theirs = await contract_api.get("/v1/contracts/templates", headers=other.headers)
    assert theirs.json() == {"items": [], "nextCursor": None}
    stolen = await contract_api.get(
        "/v1/contracts/templates",
        params={"cursor": page.json()["nextCursor"]},
        headers=other.headers,
    )
    world.problem(stolen, 422, "invalid-cursor")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "body": "Hello {{ password }}"},
        {"name": "x", "body": "{{clientName}} and {{ __class__ }}"},
        {"name": "x", "body": "{{}}"},
        {"name": "x", "body": "{{ clientName.__init__ }}"},
        {"name": "", "body": "text"},
        {"name": "x", "body": "   "},
        {"name": "x", "body": "y" * 20_001},
        {"name": "x"},
        {"name": "x", "body": "text", "companyId": "theirs"},
    ],
)
async def test_templates_refuse_bad_input(world: Parties, body: dict[str, Any]) -> None:
    client, _ = await world.shared_pair()
    response = await world.fleet.client("contract").post(
        "/v1/contracts/templates", json=body, headers=client.headers
    )
    world.problem(response, 422, "invalid-input")


async def test_a_template_needs_a_company(world: Parties) -> None:
    nobody = world.headers(uuid.uuid4().hex, "client")
    response = await world.fleet.client("contract").post(
        "/v1/contracts/templates", json={"name": "x", "body": "text"}, headers=nobody
    )
    world.problem(response, 409, "company-required")
