"""ledger.contract-activated → active; payment.released (all) → completed;
each exactly once, through the real path (EventBridge → SQS → consumer)."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from mindlinks_fleet.events import PaymentReleased

if TYPE_CHECKING:
    from conftest import Parties

FINAL = b"%PDF-1.4\n% signed\n%%EOF\n"


async def _fully_signed(world: Parties) -> dict[str, Any]:
    """A contract moved the way the signature service moves it."""
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    contract_api = world.fleet.client("contract")
    service = world.fleet.service_bearer("signature")
    cid = contract["id"]
    assert (await contract_api.post(f"/v1/contracts/{cid}/send", headers=client.headers)).is_success
    steps: list[tuple[str, int, str]] = [
        ("client_signed", 2, client.user_id),
        ("fully_signed", 4, contractor.user_id),
    ]
    for to, version, actor in steps:
        if to == "fully_signed":
            put = await contract_api.put(
                f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=service
            )
            assert put.status_code == 200, put.text
        moved = await contract_api.post(
            f"/internal/contracts/{cid}/transitions",
            json={"to": to, "expectedVersion": version, "actorUserId": actor},
            headers=service,
        )
        assert moved.status_code == 200, moved.text
    body: dict[str, Any] = moved.json()
    assert body["status"] == "fully_signed"
    return body


def _released(contract: dict[str, Any], all_released: bool) -> PaymentReleased:
    return PaymentReleased(
        contract_id=contract["id"],
        item_id=f"{contract['id']}-0",
        escrow_id=uuid.uuid4().hex,
        transfer_id=f"tr_{uuid.uuid4().hex[:12]}",
        client_user_id=contract["clientUserId"],
        contractor_user_id=contract["contractorUserId"],
        contractor_id=contract["contractorId"],
        amount_minor=contract["totalMinor"],
        currency=contract["currency"],
        all_released=all_released,
    )


async def _read(world: Parties, contract_id: str) -> dict[str, Any]:
    response = await world.fleet.client("contract").get(
        f"/internal/contracts/{contract_id}", headers=world.fleet.service_bearer("ledger")
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_activation_then_completion_each_apply_once(world: Parties) -> None:
    contract = await _fully_signed(world)
    assert contract["finalPdfSha256"] == hashlib.sha256(FINAL).hexdigest()
    event_id = await world.emit(
        "ledger", "ledger.contract-activated", world.activated(contract, 42)
    )
    active = await _read(world, contract["id"])
    assert (active["status"], active["ledgerEntryId"]) == ("active", 42)
    assert active["activatedAt"].endswith("Z")
    assert active["history"][-1] == {
        "from": "fully_signed",
        "to": "active",
        "at": active["activatedAt"],
        "actorUserId": None,
        "actorService": "ledger",
        "reason": None,
    }

    # Redelivered (same event id): the inbox drops it; a re-sent activation
    # (new id) finds the contract active and changes nothing either.
    await world.emit("ledger", "ledger.contract-activated", world.activated(contract, 42), event_id)
    await world.emit("ledger", "ledger.contract-activated", world.activated(contract, 43))
    assert await _read(world, contract["id"]) == active

    await world.emit("payment", "payment.released", _released(contract, all_released=False))
    assert await _read(world, contract["id"]) == active
    released = await world.emit("payment", "payment.released", _released(contract, True))
    completed = await _read(world, contract["id"])
    assert completed["status"] == "completed"
    assert completed["completedAt"].endswith("Z")
    assert completed["version"] == active["version"] + 1
    await world.emit("payment", "payment.released", _released(contract, True), released)
    assert await _read(world, contract["id"]) == completed


async def test_an_activation_that_does_not_fit_is_not_applied(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    await world.emit("ledger", "ledger.contract-activated", world.activated(draft))
    assert (await _read(world, draft["id"]))["status"] == "draft"
    # A release before the activation is retried later (not applied now).
    signed = await _fully_signed(world)
    await world.emit("payment", "payment.released", _released(signed, True))
    assert (await _read(world, signed["id"]))["status"] == "fully_signed"
