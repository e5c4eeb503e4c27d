"""The status machine through its routes: the client's send and void, the
signature service's transitions and the final document."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Parties

FINAL = b"%PDF-1.4\n% the signed original with its certificate\n%%EOF\n"


async def _transition(
    world: Parties, contract_id: str, service: str = "signature", **body: Any
) -> Any:
    return await world.fleet.client("contract").post(
        f"/internal/contracts/{contract_id}/transitions",
        json=body,
        headers=world.fleet.service_bearer(service),
    )


async def _put_final(
    world: Parties, contract_id: str, data: bytes = FINAL, service: str = "signature"
) -> Any:
    return await world.fleet.client("contract").put(
        f"/internal/contracts/{contract_id}/documents/final",
        content=data,
        headers={**world.fleet.service_bearer(service), "content-type": "application/pdf"},
    )


async def test_send_moves_a_draft_and_announces_it(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    assert (contract["status"], contract["version"]) == ("sent_for_signature", 2)
    [change] = contract["history"]
    assert (change["from"], change["to"], change["actorUserId"]) == (
        "draft",
        "sent_for_signature",
        client.user_id,
    )
    assert await world.events("contract.sent-for-signature", contract["id"]) == [
        {
            "contractId": contract["id"],
            "title": contract["title"],
            "clientCompanyId": client.company_id,
            "clientUserId": client.user_id,
            "contractorId": contractor.contractor_id,
            "contractorUserId": contractor.user_id,
        }
    ]
    again = await world.fleet.client("contract").post(
        f"/v1/contracts/{contract['id']}/send", headers=client.headers
    )
    world.problem(again, 409, "invalid-transition")
    assert len(await world.events("contract.sent-for-signature", contract["id"])) == 1


async def test_only_the_owner_sends_or_voids(world: Parties) -> None:
    client, contractor = await world.pair()
    contract = await world.draft(client, contractor)
    other = await world.client()
    contract_api = world.fleet.client("contract")
    for action, body in (("send", None), ("void", {"reason": "no"})):
        response = await contract_api.post(
            f"/v1/contracts/{contract['id']}/{action}", json=body, headers=other.headers
        )
        world.problem(response, 404, "contract-not-found")
        unknown = await contract_api.post(
            f"/v1/contracts/{uuid.uuid4().hex}/{action}", json=body, headers=client.headers
        )
        world.problem(unknown, 404, "contract-not-found")
    seen = await contract_api.get(f"/v1/contracts/{contract['id']}", headers=client.headers)
    assert seen.json()["status"] == "draft"


@pytest.mark.parametrize("steps", [0, 1, 2])
async def test_void_from_every_voidable_status(world: Parties, steps: int) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    contract_api = world.fleet.client("contract")
    if steps >= 1:
        assert (
            await contract_api.post(f"/v1/contracts/{contract['id']}/send", headers=client.headers)
        ).status_code == 200
    if steps >= 2:
        signed = await _transition(
            world,
            contract["id"],
            to="client_signed",
            expectedVersion=2,
            actorUserId=client.user_id,
        )
        assert signed.status_code == 200, signed.text
    voided = await contract_api.post(
        f"/v1/contracts/{contract['id']}/void",
        json={"reason": "  Scope changed  "},
        headers=client.headers,
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    assert voided.json()["history"][-1]["reason"] == "Scope changed"
    [event] = await world.events("contract.voided", contract["id"])
    assert event["reason"] == "Scope changed"
    assert event["contractorUserId"] == contractor.user_id

    again = await contract_api.post(
        f"/v1/contracts/{contract['id']}/void", json={"reason": "again"}, headers=client.headers
    )
    world.problem(again, 409, "invalid-transition")
    resend = await contract_api.post(f"/v1/contracts/{contract['id']}/send", headers=client.headers)
    world.problem(resend, 409, "invalid-transition")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1001}])
async def test_void_needs_a_reason(world: Parties, body: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    response = await world.fleet.client("contract").post(
        f"/v1/contracts/{contract['id']}/void", json=body, headers=client.headers
    )
    world.problem(response, 422, "invalid-input")


async def test_the_signature_service_drives_the_signing_moves(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    signed = await _transition(
        world, cid, to="client_signed", expectedVersion=2, actorUserId=client.user_id
    )
    assert (signed.json()["status"], signed.json()["version"]) == ("client_signed", 3)
    assert signed.json()["history"][-1]["actorService"] == "signature"
    # The same move by the same actor again (a retry after a crash) changes nothing.
    replay = await _transition(
        world, cid, to="client_signed", expectedVersion=2, actorUserId=client.user_id
    )
    assert replay.status_code == 200
    assert replay.json() == signed.json()

    early = await _transition(
        world, cid, to="fully_signed", expectedVersion=3, actorUserId=contractor.user_id
    )
    world.problem(early, 409, "final-document-missing")
    stored = await _put_final(world, cid)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"sha256": hashlib.sha256(FINAL).hexdigest(), "version": 4}
    same = await _put_final(world, cid)
    assert same.json() == stored.json()  # the same bytes again change nothing

    stale = await _transition(
        world, cid, to="fully_signed", expectedVersion=3, actorUserId=contractor.user_id
    )
    world.problem(stale, 409, "stale-version")
    wrong_signer = await _transition(
        world, cid, to="fully_signed", expectedVersion=4, actorUserId=client.user_id
    )
    world.problem(wrong_signer, 409, "invalid-transition")
    done = await _transition(
        world, cid, to="fully_signed", expectedVersion=4, actorUserId=contractor.user_id
    )
    assert (done.json()["status"], done.json()["version"]) == ("fully_signed", 5)
    assert done.json()["finalPdfSha256"] == hashlib.sha256(FINAL).hexdigest()
    assert await world.document(cid, "final") == FINAL

    # Once fully signed the final document is fixed; the same bytes are a no-op.
    world.problem(await _put_final(world, cid, FINAL + b" "), 409, "final-document-locked")
    assert (await _put_final(world, cid)).json()["version"] == 5
    link = await world.fleet.client("contract").get(
        f"/v1/contracts/{cid}/pdf", params={"kind": "final"}, headers=contractor.headers
    )
    assert link.json()["sha256"] == hashlib.sha256(FINAL).hexdigest()
    declined = await _transition(
        world, cid, to="declined", expectedVersion=5, actorUserId=contractor.user_id
    )
    world.problem(declined, 409, "invalid-transition")


async def test_either_party_declines_through_the_signature_service(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    outsider = uuid.uuid4().hex
    refused = await _transition(
        world, contract["id"], to="declined", expectedVersion=2, actorUserId=outsider
    )
    world.problem(refused, 409, "invalid-transition")
    declined = await _transition(
        world,
        contract["id"],
        to="declined",
        expectedVersion=2,
        actorUserId=contractor.user_id,
        reason="Rates too low",
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["history"][-1]["reason"] == "Rates too low"
    voided = await world.fleet.client("contract").post(
        f"/v1/contracts/{contract['id']}/void", json={"reason": "x"}, headers=client.headers
    )
    world.problem(voided, 409, "invalid-transition")


async def test_a_draft_cannot_be_signed(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    for to in ("client_signed", "fully_signed", "declined"):
        response = await _transition(
            world, contract["id"], to=to, expectedVersion=1, actorUserId=client.user_id
        )
        world.problem(response, 409, "invalid-transition")
    world.problem(await _put_final(world, contract["id"]), 409, "final-document-locked")


@pytest.mark.parametrize(
    "body",
    [
        {"to": "active", "expectedVersion": 2, "actorUserId": "u"},
        {"to": "voided", "expectedVersion": 2, "actorUserId": "u"},
        {"to": "client_signed", "expectedVersion": 0, "actorUserId": "u"},
        {"to": "client_signed", "expectedVersion": "2", "actorUserId": "u"},
        {"to": "client_signed", "expectedVersion": 2},
        {"to": "client_signed", "expectedVersion": 2, "actorUserId": ""},
    ],
)
async def test_transitions_refuse_bad_input(world: Parties, body: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    world.problem(await _transition(world, contract["id"], **body), 422, "invalid-input")


async def test_only_the_signature_service_moves_and_stores(world: Parties) -> None:
    client, _, contract = await world.sent()
    for service in ("ledger", "payment"):
        moved = await _transition(
            world,
            contract["id"],
            service=service,
            to="client_signed",
            expectedVersion=2,
            actorUserId=client.user_id,
        )
        world.problem(moved, 403, "forbidden")
        world.problem(await _put_final(world, contract["id"], service=service), 403, "forbidden")
    unknown = await _transition(
        world, uuid.uuid4().hex, to="client_signed", expectedVersion=1, actorUserId="u"
    )
    world.problem(unknown, 404, "contract-not-found")


async def test_the_final_document_must_be_a_pdf_of_sensible_size(world: Parties) -> None:
    client, _, contract = await world.sent()
    signed = await _transition(
        world, contract["id"], to="client_signed", expectedVersion=2, actorUserId=client.user_id
    )
    assert signed.status_code == 200
    world.problem(await _put_final(world, contract["id"], b"<html>"), 422, "not-a-pdf")
    world.problem(await _put_final(world, contract["id"], b""), 422, "not-a-pdf")
    limit = world.fleet.deps("contract").settings.max_document_bytes
    huge = b"%PDF-" + b"0" * limit
    world.problem(await _put_final(world, contract["id"], huge), 413, "document-too-large")
    # While the contractor's signature is in progress the document may be replaced.
    first = await _put_final(world, contract["id"], FINAL)
    second = await _put_final(world, contract["id"], FINAL + b"% again\n")
    assert second.json()["version"] == first.json()["version"] + 1
    assert await world.document(contract["id"], "final") == FINAL + b"% again\n"


async def test_internal_reads(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    contract_api = world.fleet.client("contract")
    for service in ("signature", "ledger", "payment"):
        found = await contract_api.get(
            f"/internal/contracts/{contract['id']}", headers=world.fleet.service_bearer(service)
        )
        assert found.json() == contract
    original = await world.document(contract["id"])
    assert hashlib.sha256(original).hexdigest() == contract["pdfSha256"]
    service = world.fleet.service_bearer("signature")
    missing = await contract_api.get(
        f"/internal/contracts/{contract['id']}/document", params={"kind": "final"}, headers=service
    )
    world.problem(missing, 404, "document-not-found")
    unknown = await contract_api.get(f"/internal/contracts/{uuid.uuid4().hex}", headers=service)
    world.problem(unknown, 404, "contract-not-found")

    for method, path in (
        ("GET", f"/internal/contracts/{contract['id']}"),
        ("GET", f"/internal/contracts/{contract['id']}/document"),
        ("PUT", f"/internal/contracts/{contract['id']}/documents/final"),
        ("POST", f"/internal/contracts/{contract['id']}/transitions"),
    ):
        for headers in ({}, client.headers, world.headers(uuid.uuid4().hex, "admin")):
            response = await contract_api.request(method, path, headers=headers)
            world.problem(response, 401, "unauthorized")


@pytest.mark.parametrize("action", ["send", "void"])
async def test_a_move_racing_its_own_retry_is_never_a_stale_version(
    world: Parties, action: str
) -> None:
    """Found by ``make chaos``: a dashboard's retry of "send" raced its first
    attempt (held up behind a slow network) and heard "changed by someone
    else", when the only other writer was itself. The loser now hears what a
    second move hears: the contract is already there."""
    client, contractor = await world.shared_pair()
    contract_api = world.fleet.client("contract")
    for _ in range(3):  # a race: a few tries make it likely that both read first
        contract = await world.draft(client, contractor)
        path = f"/v1/contracts/{contract['id']}/{action}"
        body = {"reason": "Scope changed"} if action == "void" else None
        answers = await asyncio.gather(
            *(contract_api.post(path, json=body, headers=client.headers) for _ in range(3))
        )
        codes = sorted(
            (r.status_code, r.json().get("code") if r.status_code != 200 else None) for r in answers
        )
        assert codes == [(200, None), (409, "invalid-transition"), (409, "invalid-transition")]
