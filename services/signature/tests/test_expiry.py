"""A contract whose signing deadline passed (issue 16) is neither signed nor
declined: the signature service says ``contract-expired``, also when the
deadline passed between its read of the contract and its move."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_kit.errors import PeerRefused
from mindlinks_kit.timers import Timers, firing_of
from mindlinks_signature.clients import _refused
from mindlinks_signature.domain import ContractExpired, check_declinable, check_signable

if TYPE_CHECKING:
    from conftest import Parties

DEADLINE_DUE = "contract.signing-deadline-due"


def contract_timers(world: Parties) -> Timers:
    found = world.fleet.runtime("contract").timers
    assert found is not None
    return found


async def expire(world: Parties, fleet_clock: FleetClock, contract: dict[str, Any]) -> None:
    """Past the deadline, its timer fired: the contract is ``expired``."""
    fleet_clock.advance("14d")
    fleet_clock.advance(1)
    pending = await contract_timers(world).pending(DEADLINE_DUE, contract["id"])
    assert pending is not None
    assert await contract_timers(world).fire(firing_of(pending))
    assert (await world.contract(contract["id"]))["status"] == "expired"


async def decline(world: Parties, account: Any, contract_id: str) -> Any:
    return await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{contract_id}/decline",
        json={"reason": "Too late anyway"},
        headers=account.headers,
    )


def test_an_expired_contract_is_neither_signed_nor_declined() -> None:
    for role in ("client", "contractor"):
        with pytest.raises(ContractExpired):
            check_signable("expired", role, None)  # type: ignore[arg-type]
    with pytest.raises(ContractExpired):
        check_declinable("expired", None)


def test_the_contract_services_refusal_is_said_as_expired() -> None:
    refused = PeerRefused("refused", answer=(409, "peer-conflict", "Conflict"))
    refused.peer_status, refused.peer_code = 409, "contract-expired"
    with pytest.raises(ContractExpired):
        _refused(refused)


async def test_an_expired_contract_is_refused_to_both_parties(
    world: Parties, fleet_clock: FleetClock
) -> None:
    client, contractor, contract = await world.sent()
    await expire(world, fleet_clock, contract)
    cid = contract["id"]
    for account in (client, contractor):
        world.problem(await world.sign(account, cid), 409, "contract-expired")
        world.problem(await decline(world, account, cid), 409, "contract-expired")
    assert await world.events("signature.client-signed", cid) == []
    assert await world.events("signature.declined", cid) == []


async def test_the_contractor_is_refused_once_the_clients_signature_expired(
    world: Parties, fleet_clock: FleetClock
) -> None:
    client, contractor, contract = await world.sent()
    assert (await world.sign(client, contract["id"])).status_code == 201
    await expire(world, fleet_clock, contract)
    world.problem(await world.sign(contractor, contract["id"]), 409, "contract-expired")
    assert await world.events("signature.completed", contract["id"]) == []


@pytest.mark.parametrize("signer", ["client", "contractor"])
async def test_a_deadline_passing_mid_signature_is_said_as_expired(
    world: Parties, fleet_clock: FleetClock, monkeypatch: pytest.MonkeyPatch, signer: str
) -> None:
    """The signature read the contract before the deadline; the contract
    service refuses what comes after (the contractor's final document, or the
    move) as expired."""
    client, contractor, contract = await world.sent()
    if signer == "contractor":
        assert (await world.sign(client, contract["id"])).status_code == 201
    account = client if signer == "client" else contractor
    contracts = world.fleet.deps("signature").signatures.contracts
    original = contracts.original

    async def read_while_the_deadline_passes(contract_id: str, amendment: int | None) -> bytes:
        await expire(world, fleet_clock, contract)  # after the status check, before the move
        return await original(contract_id, amendment)

    monkeypatch.setattr(contracts, "original", read_while_the_deadline_passes)
    world.problem(await world.sign(account, contract["id"]), 409, "contract-expired")
    assert (await world.contract(contract["id"]))["status"] == "expired"
    signed = "signature.client-signed" if signer == "client" else "signature.completed"
    assert await world.events(signed, contract["id"]) == []
