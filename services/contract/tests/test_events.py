"""ledger.contract-activated → active; payment.item-settled (all settled) →
completed; each exactly once, through the real path (EventBridge → SQS →
consumer)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Contracting

FINAL = b"%PDF-1.4\n% signed\n%%EOF\n"


async def _fully_signed(world: Contracting) -> dict[str, Any]:
    """A contract moved the way the signature service moves it."""
    client, contractor = await world.shared_pair()
    return await world.fully_signed(client, contractor)


async def test_activation_then_completion_each_apply_once(world: Contracting) -> None:
    contract = await _fully_signed(world)
    assert contract["finalPdfSha256"] == hashlib.sha256(FINAL).hexdigest()
    event_id = await world.emit(
        "ledger", "ledger.contract-activated", world.activated(contract, 42)
    )
    active = await world.contract(contract["id"])
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
    assert await world.contract(contract["id"]) == active

    # A release alone completes nothing any more: the settlement does.
    await world.emit("payment", "payment.released", world.released(contract, True))
    await world.emit("payment", "payment.item-settled", world.settled(contract, all_settled=False))
    assert await world.contract(contract["id"]) == active
    # The last item refunded (not released) still settles the contract.
    settled = await world.emit(
        "payment", "payment.item-settled", world.settled(contract, outcome="refunded")
    )
    completed = await world.contract(contract["id"])
    assert completed["status"] == "completed"
    assert completed["completedAt"].endswith("Z")
    assert completed["version"] == active["version"] + 1
    assert completed["history"][-1]["actorService"] == "payment"
    await world.emit("payment", "payment.item-settled", world.settled(contract), settled)
    await world.emit("payment", "payment.item-settled", world.settled(contract))
    assert await world.contract(contract["id"]) == completed


async def test_an_activation_that_does_not_fit_is_not_applied(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    await world.emit("ledger", "ledger.contract-activated", world.activated(draft))
    assert (await world.contract(draft["id"]))["status"] == "draft"
    # A settlement before the activation is retried later (not applied now).
    signed = await _fully_signed(world)
    await world.emit("payment", "payment.item-settled", world.settled(signed))
    assert (await world.contract(signed["id"]))["status"] == "fully_signed"
