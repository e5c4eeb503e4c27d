"""Reading contracts: lists, one contract, the download link — and who may."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from mindlinks_dev.problem import NOT_A_JWT, needs_a_user_token

if TYPE_CHECKING:
    from conftest import Parties


async def test_a_client_lists_its_companys_contracts_newest_first(world: Parties) -> None:
    client, contractor = await world.pair()
    first = await world.draft(client, contractor, title="First")
    second = await world.draft(client, contractor, title="Second")
    third = await world.draft(client, contractor, title="Third")
    contract_api = world.fleet.client("contract")
    sent = await contract_api.post(f"/v1/contracts/{second['id']}/send", headers=client.headers)
    assert sent.status_code == 200

    page = await contract_api.get("/v1/contracts", params={"limit": 2}, headers=client.headers)
    assert page.status_code == 200, page.text
    assert [c["id"] for c in page.json()["items"]] == [third["id"], second["id"]]
    cursor = page.json()["nextCursor"]
    assert cursor
    rest = await contract_api.get(
        "/v1/contracts", params={"limit": 2, "cursor": cursor}, headers=client.headers
    )
    assert [c["id"] for c in rest.json()["items"]] == [first["id"]]
    assert rest.json()["nextCursor"] is None

    drafts = await contract_api.get(
        "/v1/contracts", params={"status": "draft", "limit": 1}, headers=client.headers
    )
    assert [c["id"] for c in drafts.json()["items"]] == [third["id"]]
    more = await contract_api.get(
        "/v1/contracts",
        params={"status": "draft", "limit": 1, "cursor": drafts.json()["nextCursor"]},
        headers=client.headers,
    )
    assert [c["id"] for c in more.json()["items"]] == [first["id"]]
    sent_only = await contract_api.get(
        "/v1/contracts", params={"status": "sent_for_signature"}, headers=client.headers
    )
    assert [c["id"] for c in sent_only.json()["items"]] == [second["id"]]

    # The contractor sees the same contracts (they are all theirs).
    theirs = await contract_api.get("/v1/contracts", headers=contractor.headers)
    assert [c["id"] for c in theirs.json()["items"]] == [third["id"], second["id"], first["id"]]


async def test_lists_hold_only_the_callers_contracts(world: Parties) -> None:
    client, contractor = await world.pair()
    mine = await world.draft(client, contractor)
    other_client, other_contractor = await world.pair()
    contract_api = world.fleet.client("contract")
    for headers in (other_client.headers, other_contractor.headers):
        listed = await contract_api.get("/v1/contracts", headers=headers)
        assert mine["id"] not in [c["id"] for c in listed.json()["items"]]
    # A contractor without a profile has none; a client without a company is
    # told to register one (or join a team).
    empty = await contract_api.get(
        "/v1/contracts", headers=world.headers(uuid.uuid4().hex, "contractor")
    )
    assert empty.json() == {"items": [], "nextCursor": None}
    lonely = await contract_api.get(
        "/v1/contracts", headers=world.headers(uuid.uuid4().hex, "client")
    )
    world.problem(lonely, 409, "company-required")


async def test_a_cursor_only_works_for_its_own_list(world: Parties) -> None:
    client, contractor = await world.pair()
    for _ in range(2):
        await world.draft(client, contractor)
    contract_api = world.fleet.client("contract")
    page = await contract_api.get("/v1/contracts", params={"limit": 1}, headers=client.headers)
    cursor = page.json()["nextCursor"]
    stolen = await contract_api.get(
        "/v1/contracts", params={"cursor": cursor, "limit": 1}, headers=contractor.headers
    )
    world.problem(stolen, 422, "invalid-cursor")
    filtered = await contract_api.get(
        "/v1/contracts",
        params={"cursor": cursor, "limit": 1, "status": "draft"},
        headers=client.headers,
    )
    world.problem(filtered, 422, "invalid-cursor")
    forged = await contract_api.get(
        "/v1/contracts", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=client.headers
    )
    world.problem(forged, 422, "invalid-cursor")


@pytest.mark.parametrize(
    "params", [{"status": "signed"}, {"limit": 0}, {"limit": 101}, {"limit": "many"}]
)
async def test_list_parameters_are_checked(world: Parties, params: dict[str, object]) -> None:
    client, _ = await world.shared_pair()
    response = await world.fleet.client("contract").get(
        "/v1/contracts", params=params, headers=client.headers
    )
    world.problem(response, 422, "invalid-input")


async def test_a_contract_is_visible_to_its_parties_and_admins_only(world: Parties) -> None:
    client, contractor = await world.pair()
    contract = await world.draft(client, contractor)
    other_client = await world.client()
    other_contractor = await world.contractor(other_client)
    contract_api = world.fleet.client("contract")
    path = f"/v1/contracts/{contract['id']}"
    for headers in (client.headers, contractor.headers, world.headers(uuid.uuid4().hex, "admin")):
        seen = await contract_api.get(path, headers=headers)
        assert seen.status_code == 200, seen.text
        assert seen.json() == contract
    foreign = []
    for headers in (other_client.headers, other_contractor.headers):
        foreign.append(
            world.problem(await contract_api.get(path, headers=headers), 404, "contract-not-found")
        )
    unknown = world.problem(
        await contract_api.get(f"/v1/contracts/{uuid.uuid4().hex}", headers=client.headers),
        404,
        "contract-not-found",
    )
    assert foreign[0]["detail"] == unknown["detail"]


async def test_the_pdf_link_is_for_parties_and_admins(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    contract_api = world.fleet.client("contract")
    path = f"/v1/contracts/{contract['id']}/pdf"
    for headers in (contractor.headers, world.headers(uuid.uuid4().hex, "admin")):
        link = await contract_api.get(path, headers=headers)
        assert link.status_code == 200, link.text
        body = link.json()
        assert (body["sha256"], body["kind"]) == (contract["pdfSha256"], "original")
        assert body["expiresAt"].endswith("Z")
        async with httpx.AsyncClient() as http:
            download = await http.get(body["url"])
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/pdf"
        assert download.content.startswith(b"%PDF-")

    final = await contract_api.get(path, params={"kind": "final"}, headers=client.headers)
    world.problem(final, 404, "document-not-found")
    world.problem(
        await contract_api.get(path, params={"kind": "signed"}, headers=client.headers),
        422,
        "invalid-input",
    )
    other = await world.client()
    world.problem(await contract_api.get(path, headers=other.headers), 404, "contract-not-found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/contracts", None),
        ("POST", "/v1/contracts", {}),
        ("GET", "/v1/contracts/templates", None),
        ("POST", "/v1/contracts/templates", {"name": "n", "body": "b"}),
        ("GET", "/v1/contracts/some-id", None),
        ("GET", "/v1/contracts/some-id/pdf", None),
        ("POST", "/v1/contracts/some-id/send", None),
        ("POST", "/v1/contracts/some-id/void", {"reason": "r"}),
    ],
)
async def test_public_routes_need_a_user_token(
    world: Parties, method: str, path: str, body: object
) -> None:
    contract_api = world.fleet.client("contract")
    signature = world.fleet.service_bearer("signature")
    await needs_a_user_token(contract_api, method, path, NOT_A_JWT, signature, json=body)


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/v1/contracts", "admin"),
        ("POST", "/v1/contracts", "contractor"),
        ("POST", "/v1/contracts", "admin"),
        ("GET", "/v1/contracts/templates", "contractor"),
        ("POST", "/v1/contracts/templates", "contractor"),
        ("POST", "/v1/contracts/{id}/send", "contractor"),
        ("POST", "/v1/contracts/{id}/send", "admin"),
        ("POST", "/v1/contracts/{id}/void", "contractor"),
    ],
)
async def test_routes_refuse_the_wrong_role(
    world: Parties, method: str, path: str, role: str
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    user_id = contractor.user_id if role == "contractor" else uuid.uuid4().hex
    body = {"reason": "r"} if path.endswith("void") else world.body(contractor)
    response = await world.fleet.client("contract").request(
        method,
        path.format(id=contract["id"]),
        json=body if method == "POST" else None,
        headers=world.headers(user_id, role),
    )
    world.problem(response, 403, "forbidden")
