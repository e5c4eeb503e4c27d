"""Declining: either party, while the contract awaits signatures."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Parties


async def _decline(world: Parties, account: Any, contract_id: str, reason: str = "Not now") -> Any:
    return await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{contract_id}/decline",
        json={"reason": reason},
        headers=account.headers,
    )


async def test_the_contractor_declines_after_the_client_signed(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    assert (await world.sign(client, cid)).status_code == 201
    declined = await _decline(world, contractor, cid, "  The rate is too low  ")
    assert declined.status_code == 200, declined.text
    assert declined.json() == {
        "contractId": cid,
        "status": "declined",
        "declinedByRole": "contractor",
        "declinedByUserId": contractor.user_id,
        "reason": "The rate is too low",
        "declinedAt": declined.json()["declinedAt"],
    }
    after = await world.contract(cid)
    assert after["status"] == "declined"
    assert after["history"][-1]["reason"] == "The rate is too low"
    assert await world.events("signature.declined", cid) == [
        {
            "contractId": cid,
            "title": contract["title"],
            "clientCompanyId": client.company_id,
            "clientUserId": client.user_id,
            "contractorId": contractor.contractor_id,
            "contractorUserId": contractor.user_id,
            "declinedByUserId": contractor.user_id,
            "declinedByRole": "contractor",
            "reason": "The rate is too low",
        }
    ]
    world.problem(await _decline(world, contractor, cid), 409, "contract-not-signable")
    world.problem(await _decline(world, client, cid), 409, "contract-not-signable")
    world.problem(await world.sign(contractor, cid), 409, "contract-not-signable")
    assert len(await world.events("signature.declined", cid)) == 1


async def test_the_client_may_decline_too(world: Parties) -> None:
    client, _, contract = await world.sent()
    declined = await _decline(world, client, contract["id"])
    assert declined.status_code == 200
    assert declined.json()["declinedByRole"] == "client"


async def test_only_contracts_awaiting_signatures_are_declined(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    world.problem(await _decline(world, contractor, draft["id"]), 409, "contract-not-signable")
    _, other_contractor = await world.pair()
    world.problem(await _decline(world, other_contractor, draft["id"]), 404, "contract-not-found")
    world.problem(await _decline(world, contractor, uuid.uuid4().hex), 404, "contract-not-found")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " "}, {"reason": "x" * 1001}])
async def test_a_decline_needs_a_reason(world: Parties, body: dict[str, Any]) -> None:
    _, contractor = await world.shared_pair()
    response = await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{uuid.uuid4().hex}/decline",
        json=body,
        headers=contractor.headers,
    )
    world.problem(response, 422, "invalid-input")
