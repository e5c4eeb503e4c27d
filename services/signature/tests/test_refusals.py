"""What signing refuses, and who may sign at all."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.problem import NOT_A_JWT, needs_a_user_token

if TYPE_CHECKING:
    from conftest import Parties


@pytest.mark.parametrize(
    "body",
    [
        {"consent": False, "signatureName": "Ada"},
        {"consent": "true", "signatureName": "Ada"},
        {"consent": 1, "signatureName": "Ada"},
        {"signatureName": "Ada"},
        {"consent": True},
        {"consent": True, "signatureName": ""},
        {"consent": True, "signatureName": "   "},
        {"consent": True, "signatureName": "x" * 201},
        {"consent": True, "signatureName": "Ada", "signedAt": "2020-01-01T00:00:00Z"},
    ],
)
async def test_consent_and_a_name_are_required(world: Parties, body: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    response = await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{contract['id']}/sign", json=body, headers=client.headers
    )
    world.problem(response, 422, "invalid-input")


async def test_a_draft_is_not_signable(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    world.problem(await world.sign(client, contract["id"]), 409, "contract-not-signable")
    world.problem(await world.sign(contractor, contract["id"]), 409, "contract-not-signable")


async def test_a_voided_contract_is_not_signable(world: Parties) -> None:
    client, _, contract = await world.sent()
    voided = await world.fleet.client("contract").post(
        f"/v1/contracts/{contract['id']}/void",
        json={"reason": "Wrong rate"},
        headers=client.headers,
    )
    assert voided.status_code == 200
    world.problem(await world.sign(client, contract["id"]), 409, "contract-not-signable")


async def test_a_declined_contract_is_not_signable(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    declined = await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{contract['id']}/decline",
        json={"reason": "No"},
        headers=contractor.headers,
    )
    assert declined.status_code == 200, declined.text
    world.problem(await world.sign(client, contract["id"]), 409, "contract-not-signable")


async def test_the_client_signs_first_and_once(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    world.problem(await world.sign(contractor, cid), 409, "client-must-sign-first")
    assert (await world.sign(client, cid)).status_code == 201
    world.problem(await world.sign(client, cid), 409, "already-signed")
    assert (await world.sign(contractor, cid)).status_code == 201
    for account in (client, contractor):
        status = (await world.contract(cid))["status"]
        code = "already-signed" if status == "fully_signed" else "contract-not-signable"
        world.problem(await world.sign(account, cid), 409, code)
    assert len(await world.events("signature.client-signed", cid)) == 1
    assert len(await world.events("signature.completed", cid)) == 1


async def test_a_changed_document_is_not_signed(world: Parties) -> None:
    client, _, contract = await world.sent()
    contract_runtime = world.fleet.runtime("contract")
    bucket = contract_runtime.settings.physical("contract-documents")
    key = f"contracts/{contract['id']}/original.pdf"
    original = await world.document(contract["id"])
    await contract_runtime.aws.s3.put_object(
        Bucket=bucket, Key=key, Body=original.replace(b"Website redesign", b"Website redesigm")
    )
    world.problem(await world.sign(client, contract["id"]), 409, "document-changed")
    assert (await world.contract(contract["id"]))["status"] == "sent_for_signature"
    listed = await world.fleet.client("signature").get(
        f"/v1/signatures/contracts/{contract['id']}", headers=client.headers
    )
    assert listed.json()["items"] == []
    # Put back, the document is signable again.
    await contract_runtime.aws.s3.put_object(Bucket=bucket, Key=key, Body=original)
    assert (await world.sign(client, contract["id"])).status_code == 201


async def test_only_the_parties_sign(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    other_client, other_contractor = await world.pair()
    signature_api = world.fleet.client("signature")
    for outsider in (other_client, other_contractor):
        world.problem(await world.sign(outsider, contract["id"]), 404, "contract-not-found")
    world.problem(await world.sign(client, uuid.uuid4().hex), 404, "contract-not-found")
    # A party's user id with the other role's token is still not that party:
    # as a client account it is a member of no company.
    impostor = world.headers(contractor.user_id, "client")
    response = await signature_api.post(
        f"/v1/signatures/contracts/{contract['id']}/sign",
        json={"consent": True, "signatureName": "x"},
        headers=impostor,
    )
    world.problem(response, 409, "company-required")
    admin = await signature_api.post(
        f"/v1/signatures/contracts/{contract['id']}/sign",
        json={"consent": True, "signatureName": "x"},
        headers=world.headers(uuid.uuid4().hex, "admin"),
    )
    world.problem(admin, 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/signatures/contracts/c1/sign", {"consent": True, "signatureName": "x"}),
        ("POST", "/v1/signatures/contracts/c1/decline", {"reason": "x"}),
        ("GET", "/v1/signatures/contracts/c1", None),
    ],
)
async def test_routes_need_a_user_token(
    world: Parties, method: str, path: str, body: object
) -> None:
    signature_api = world.fleet.client("signature")
    contract = world.fleet.service_bearer("contract")
    await needs_a_user_token(signature_api, method, path, NOT_A_JWT, contract, json=body)
