"""POST /v1/contracts: the parties' checks, the PDF, the event, Idempotency-Key."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_contract.schemas import MAX_AMOUNT_MINOR, FixedTerms
from mindlinks_dev.parties import REAL_PEERS

if TYPE_CHECKING:
    from conftest import Parties


async def test_a_client_drafts_a_contract_with_its_pdf(world: Parties) -> None:
    client, contractor = await world.pair()
    contract = await world.draft(client, contractor)
    assert contract["status"] == "draft"
    assert contract["version"] == 1
    assert (contract["clientCompanyId"], contract["clientUserId"]) == (
        client.company_id,
        client.user_id,
    )
    assert (contract["contractorId"], contract["contractorUserId"]) == (
        contractor.contractor_id,
        contractor.user_id,
    )
    assert contract["totalMinor"] == 150_000
    assert contract["terms"] == world.fixed_terms()
    assert contract["finalPdfSha256"] is None

    link = await world.fleet.client("contract").get(
        f"/v1/contracts/{contract['id']}/pdf", headers=client.headers
    )
    assert link.status_code == 200, link.text
    assert link.json()["sha256"] == contract["pdfSha256"]
    async with httpx.AsyncClient() as http:
        pdf = (await http.get(link.json()["url"])).content
    assert hashlib.sha256(pdf).hexdigest() == contract["pdfSha256"]
    text = world.pdf_text(pdf)
    for expected in ("Website redesign", "EUR 1,500.00", contract["id"], client.legal_name):
        assert expected in text


async def test_contract_created_is_published_with_the_total(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(
        client,
        contractor,
        currency="GBP",
        terms={
            "kind": "milestones",
            "milestones": [
                {"title": "Design", "amountMinor": 120_000, "dueDate": "2026-03-15"},
                {"title": "Build", "amountMinor": 380_050, "dueDate": "2026-04-30"},
            ],
        },
    )
    assert contract["totalMinor"] == 500_050
    assert await world.events("contract.created", contract["id"]) == [
        {
            "contractId": contract["id"],
            "title": "Website redesign",
            "clientCompanyId": client.company_id,
            "clientUserId": client.user_id,
            "contractorId": contractor.contractor_id,
            "contractorUserId": contractor.user_id,
            "currency": "GBP",
            "totalMinor": 500_050,
        }
    ]
    pdf = await world.document(contract["id"])
    text = world.pdf_text(pdf)
    for expected in ("Design", "GBP 1,200.00", "Build", "GBP 3,800.50", "GBP 5,000.50"):
        assert expected in text


async def test_a_template_fills_the_agreement_safely(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract_api = world.fleet.client("contract")
    created = await contract_api.post(
        "/v1/contracts/templates",
        headers=client.headers,
        json={
            "name": "Services agreement",
            "body": "This agreement between {{ clientName }} and {{contractorName}} "
            "for <b>{{title}}</b> starts on {{startDate}}.",
        },
    )
    assert created.status_code == 201, created.text
    contract = await world.draft(
        client, contractor, templateId=created.json()["id"], title="Audit & <review>"
    )
    assert contract["templateId"] == created.json()["id"]
    text = world.pdf_text(await world.document(contract["id"]))
    flat = " ".join(text.split())
    assert (
        f"This agreement between {client.legal_name} and Grace Hopper for <b>Audit & <review></b>"
        " starts on 2026-03-01." in flat
    )


async def test_an_idempotency_key_replays_the_first_contract(world: Parties) -> None:
    client, contractor = await world.pair()
    contract_api = world.fleet.client("contract")
    key = {"Idempotency-Key": uuid.uuid4().hex, **client.headers}
    body = world.body(contractor)
    first = await contract_api.post("/v1/contracts", json=body, headers=key)
    again = await contract_api.post("/v1/contracts", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listed = await contract_api.get("/v1/contracts", headers=client.headers)
    assert [c["id"] for c in listed.json()["items"]] == [first.json()["id"]]
    assert len(await world.events("contract.created", first.json()["id"])) == 1

    other = await contract_api.post(
        "/v1/contracts", json={**body, "title": "Something else"}, headers=key
    )
    world.problem(other, 422, "idempotency-key-reused")
    # The key is the caller's: another client using it is not replayed.
    other_client, other_contractor = await world.pair()
    theirs = await contract_api.post(
        "/v1/contracts",
        json=world.body(other_contractor),
        headers={"Idempotency-Key": key["Idempotency-Key"], **other_client.headers},
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


async def test_a_refused_draft_frees_its_idempotency_key(world: Parties) -> None:
    client = await world.client()
    contractor = await world.contractor(client, kyc="pending")
    key = {"Idempotency-Key": uuid.uuid4().hex, **client.headers}
    refused = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor), headers=key
    )
    world.problem(refused, 409, "contractor-not-verified")
    again = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor), headers=key
    )
    world.problem(again, 409, "contractor-not-verified")


async def test_the_company_must_be_active(world: Parties) -> None:
    pending = await world.client(status="pending_review")
    _, contractor = await world.shared_pair()
    response = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor), headers=pending.headers
    )
    world.problem(response, 409, "company-not-active")
    nobody = world.headers(uuid.uuid4().hex, "client")
    response = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor), headers=nobody
    )
    world.problem(response, 409, "company-required")


async def test_the_contractor_must_work_with_the_company(world: Parties) -> None:
    client, _ = await world.pair()
    _, someone_elses = await world.pair()
    contract_api = world.fleet.client("contract")
    foreign = await contract_api.post(
        "/v1/contracts", json=world.body(someone_elses), headers=client.headers
    )
    unknown = await contract_api.post(
        "/v1/contracts",
        json={**world.body(someone_elses), "contractorId": uuid.uuid4().hex},
        headers=client.headers,
    )
    world.problem(foreign, 404, "contractor-not-found")
    world.problem(unknown, 404, "contractor-not-found")
    assert foreign.json()["detail"] == unknown.json()["detail"]


async def test_the_contractor_must_be_verified(world: Parties) -> None:
    client = await world.client()
    contractor = await world.contractor(client, kyc="pending")
    response = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor), headers=client.headers
    )
    world.problem(response, 409, "contractor-not-verified")


async def test_another_companys_template_is_not_found(world: Parties) -> None:
    client, contractor = await world.pair()
    other = await world.client()
    theirs = await world.fleet.client("contract").post(
        "/v1/contracts/templates",
        headers=other.headers,
        json={"name": "Theirs", "body": "Between {{clientName}} and {{contractorName}}."},
    )
    assert theirs.status_code == 201
    for template_id in (theirs.json()["id"], uuid.uuid4().hex):
        response = await world.fleet.client("contract").post(
            "/v1/contracts",
            json=world.body(contractor, templateId=template_id),
            headers=client.headers,
        )
        world.problem(response, 404, "template-not-found")


def _milestones(count: int) -> dict[str, Any]:
    return {
        "kind": "milestones",
        "milestones": [
            {"title": f"Step {i}", "amountMinor": 100, "dueDate": "2026-04-01"}
            for i in range(count)
        ],
    }


@pytest.mark.parametrize(
    "change",
    [
        {"currency": "eur"},
        {"currency": "EURO"},
        {"currency": "XXX"},
        {"title": "   "},
        {"title": "x" * 201},
        {"description": ""},
        {"startDate": "2026-13-01"},
        {"startDate": "01/03/2026"},
        {"startDate": "2026-03-01T00:00:00Z"},
        {"startDate": 1767225600},
        {"contractorId": "../../etc"},
        {"templateId": ""},
        {"terms": {"kind": "fixed", "amountMinor": 0, "dueDate": "2026-03-31"}},
        {"terms": {"kind": "fixed", "amountMinor": -5, "dueDate": "2026-03-31"}},
        {"terms": {"kind": "fixed", "amountMinor": 10.5, "dueDate": "2026-03-31"}},
        {"terms": {"kind": "fixed", "amountMinor": "100", "dueDate": "2026-03-31"}},
        {"terms": {"kind": "fixed", "amountMinor": True, "dueDate": "2026-03-31"}},
        {"terms": {"kind": "fixed", "amountMinor": 100, "dueDate": "2026-02-28"}},
        {"terms": {"kind": "fixed", "amountMinor": 100}},
        {"terms": {"kind": "hourly", "amountMinor": 100, "dueDate": "2026-03-31"}},
        {"terms": {"kind": "milestones", "milestones": []}},
        {"terms": _milestones(51)},
        {
            "terms": {
                "kind": "milestones",
                "milestones": [{"title": "A", "amountMinor": 1, "dueDate": "2026-01-01"}],
            }
        },
        {"terms": {"kind": "fixed", "amountMinor": 100, "dueDate": "2026-03-31", "x": 1}},
        {"status": "active"},
        {"clientCompanyId": "someone-else"},
    ],
)
async def test_bad_input_is_refused(world: Parties, change: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    body = {**world.body(contractor), **change}
    response = await world.fleet.client("contract").post(
        "/v1/contracts", json=body, headers=client.headers
    )
    world.problem(response, 422, "invalid-input")


async def test_an_amount_written_with_a_zero_fraction_is_an_integer(world: Parties) -> None:
    """JSON Schema's ``integer`` admits ``1500.0`` (make fuzz found the schema
    promised what the service refused); ``10.5`` and ``"100"`` stay refused."""
    client, contractor = await world.shared_pair()
    terms = {
        "kind": "milestones",
        "milestones": [
            {"title": "Design", "amountMinor": 1500.0, "dueDate": "2026-03-15"},
            {"title": "Build", "amountMinor": 2500, "dueDate": "2026-04-30"},
        ],
    }
    contract = await world.draft(client, contractor, terms=terms)
    assert contract["totalMinor"] == 4000
    assert contract["terms"]["milestones"][0]["amountMinor"] == 1500
    bounds = FixedTerms.model_json_schema()["properties"]["amountMinor"]
    assert (bounds["exclusiveMinimum"], bounds["maximum"]) == (0, MAX_AMOUNT_MINOR)


async def test_fifty_milestones_are_fine(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor, terms=_milestones(50))
    assert contract["totalMinor"] == 5_000


async def test_missing_fields_are_refused(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    for field in ("contractorId", "title", "description", "currency", "startDate", "terms"):
        body = world.body(contractor)
        del body[field]
        response = await world.fleet.client("contract").post(
            "/v1/contracts", json=body, headers=client.headers
        )
        world.problem(response, 422, "invalid-input")


async def test_the_contractor_is_named_by_the_verified_legal_name(world: Parties) -> None:
    """Security issue #9 item 3: a rename after KYC never reaches a contract —
    neither its stored parties, nor its PDF, nor a template's placeholder."""
    client, contractor = await world.pair()  # KYC-verified as "Grace Hopper"
    if REAL_PEERS:
        renamed = await world.edit_profile(contractor, name="Mallory Mallet")
        world.problem(renamed, 409, "legal-name-locked")
    else:  # the stand-in's profile name drifts; the verified one does not
        world.directory.contractors[contractor.contractor_id]["name"] = "Mallory Mallet"
    template = await world.fleet.client("contract").post(
        "/v1/contracts/templates",
        headers=client.headers,
        json={"name": "Named", "body": "{{clientName}} engages {{contractorName}}."},
    )
    assert template.status_code == 201, template.text
    contract = await world.draft(client, contractor, templateId=template.json()["id"])
    assert contract["contractorName"] == "Grace Hopper"
    stored = await world.fleet.client("contract").get(
        f"/internal/contracts/{contract['id']}", headers=world.fleet.service_bearer("signature")
    )
    assert stored.json()["contractorName"] == "Grace Hopper"
    flat = " ".join(world.pdf_text(await world.document(contract["id"])).split())
    assert f"{client.legal_name} engages Grace Hopper." in flat
    assert "Mallory" not in flat


async def test_a_verified_contractor_without_a_verified_name_is_refused(world: Parties) -> None:
    """A peer answering ``verified`` without the name (an older contractor
    service) is not trusted to name the party."""
    if REAL_PEERS:
        pytest.skip("the real contractor service always sends the verified name")
    client, contractor = await world.pair()
    world.directory.contractors[contractor.contractor_id]["verifiedLegalName"] = None
    response = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor), headers=client.headers
    )
    world.problem(response, 409, "contractor-not-verified")
