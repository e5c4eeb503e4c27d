"""A contract belongs to its client company: every member reads it, the roles
``contracts.draft`` allows draft, send and void it (whoever drafted it), a
member of another company learns nothing, and a member of several companies
names the one it acts for in ``X-Company-Id``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_fleet.teams import COMPANY_HEADER, PERMISSIONS, CompanyRole

if TYPE_CHECKING:
    from conftest import ClientAccount, Parties

ROLES = [r.value for r in CompanyRole]
DRAFTERS = {r.value for r in PERMISSIONS["contracts.draft"]}
TEMPLATE = {"name": "NDA", "body": "{{clientName}} hires {{contractorName}}."}


def api(world: Parties) -> httpx.AsyncClient:
    return world.fleet.client("contract")


async def reads(world: Parties, contract_id: str, headers: dict[str, str]) -> list[int]:
    """The status of each read of the contract: one, its PDF link, and the
    list (200 holding it, 404 answering without it)."""
    one = await api(world).get(f"/v1/contracts/{contract_id}", headers=headers)
    pdf = await api(world).get(f"/v1/contracts/{contract_id}/pdf", headers=headers)
    listed = await api(world).get("/v1/contracts", headers=headers)
    if listed.status_code != 200:
        return [one.status_code, pdf.status_code, listed.status_code]
    held = contract_id in [c["id"] for c in listed.json()["items"]]
    return [one.status_code, pdf.status_code, 200 if held else 404]


async def writes(
    world: Parties, member: ClientAccount, contract: dict[str, Any], body: dict[str, Any]
) -> dict[str, httpx.Response]:
    """Each drafting move by ``member``: the contract (drafted by someone else)
    sent, then voided; a new draft; the templates listed and added."""
    contract_api, headers = api(world), member.headers
    return {
        "send": await contract_api.post(f"/v1/contracts/{contract['id']}/send", headers=headers),
        "void": await contract_api.post(
            f"/v1/contracts/{contract['id']}/void", headers=headers, json={"reason": "x"}
        ),
        "draft": await contract_api.post("/v1/contracts", headers=headers, json=body),
        "templates": await contract_api.get("/v1/contracts/templates", headers=headers),
        "template": await contract_api.post(
            "/v1/contracts/templates", headers=headers, json=TEMPLATE
        ),
    }


@pytest.mark.parametrize("role", ROLES)
async def test_a_members_company_role_decides_what_they_do_with_its_contracts(
    world: Parties, role: str
) -> None:
    client, contractor = await world.shared_pair()
    member = await world.member(client, role) if role != "owner" else client
    contract = await world.draft(client, contractor)
    assert await reads(world, contract["id"], member.headers) == [200, 200, 200]

    answers = await writes(world, member, contract, world.body(contractor))
    if role not in DRAFTERS:
        for answer in answers.values():
            problem = world.problem(answer, 403, "company-role-not-allowed")
            assert f"yours is {role}" in problem["detail"]
        return
    assert answers["send"].json()["status"] == "sent_for_signature"
    assert answers["void"].json()["status"] == "voided"
    assert [c["actorUserId"] for c in answers["void"].json()["history"]] == [
        member.user_id,
        member.user_id,
    ]
    drafted = answers["draft"]
    assert drafted.status_code == 201, drafted.text
    # The company's contract, drafted by the member: the owner reads and sends it.
    assert (drafted.json()["clientCompanyId"], drafted.json()["clientUserId"]) == (
        client.company_id,
        member.user_id,
    )
    sent = await api(world).post(
        f"/v1/contracts/{drafted.json()['id']}/send", headers=client.headers
    )
    assert sent.status_code == 200, sent.text
    assert answers["template"].status_code == 201
    assert answers["template"].json()["companyId"] == client.company_id
    assert answers["templates"].status_code == 200


async def test_a_member_of_another_company_learns_nothing(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    other = await world.client()
    outsider = await world.member(other, "admin")
    for stranger in (other, outsider):
        assert await reads(world, contract["id"], stranger.headers) == [404, 404, 404]
        for move, body in (("send", None), ("void", {"reason": "x"})):
            response = await api(world).post(
                f"/v1/contracts/{contract['id']}/{move}", headers=stranger.headers, json=body
            )
            world.problem(response, 404, "contract-not-found")
    # Nor may they draft with a contractor engaged with the first company only.
    drafted = await api(world).post(
        "/v1/contracts", headers=other.headers, json=world.body(contractor)
    )
    world.problem(drafted, 404, "contractor-not-found")


async def test_a_member_of_two_companies_names_the_one_it_acts_for(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    other = await world.client()
    # The other company's owner is also a viewer of the first one.
    both = await world.member(client, "viewer", user_id=other.user_id)
    path = f"/v1/contracts/{contract['id']}"
    world.problem(await api(world).get(path, headers=both.headers), 400, "company-header-required")
    world.problem(
        await api(world).get("/v1/contracts", headers=both.headers),
        400,
        "company-header-required",
    )
    as_first = {**both.headers, COMPANY_HEADER: client.company_id}
    as_other = {**both.headers, COMPANY_HEADER: other.company_id}
    assert await reads(world, contract["id"], as_first) == [200, 200, 200]
    assert await reads(world, contract["id"], as_other) == [404, 404, 404]
    # The role is the one in the company named: a viewer there, the owner here.
    send = f"{path}/send"
    world.problem(await api(world).post(send, headers=as_first), 403, "company-role-not-allowed")
    template = await api(world).post("/v1/contracts/templates", headers=as_other, json=TEMPLATE)
    assert template.json()["companyId"] == other.company_id
    unknown = {**both.headers, COMPANY_HEADER: uuid.uuid4().hex}
    world.problem(await api(world).get(path, headers=unknown), 404, "company-not-found")
