"""kyc.verified / kyc.rejected → the contractor's kycStatus, through the real
event path (the kyc service's outbox → EventBridge → SQS → consumer)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import KycDecided
from mindlinks_kit.events.envelope import Delivered, Detail

if TYPE_CHECKING:
    from conftest import World


def decision(contractor_id: str, user_id: str, reason: str | None = None) -> KycDecided:
    return KycDecided(
        session_id=uuid.uuid4().hex,
        contractor_id=contractor_id,
        user_id=user_id,
        provider="veriff",
        reason=reason,
    )


async def test_a_verification_is_recorded(fleet: Running, world: World) -> None:
    owner, contractor, accepted = await world.onboarded()
    contractor_id = accepted["contractor"]["id"]
    await world.emit("kyc.verified", decision(contractor_id, contractor.user_id))
    me = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()
    assert (me["kycStatus"], me["kycReason"], me["version"]) == ("verified", None, 2)
    assert me["kycDecidedAt"].endswith("Z")
    record = await world.contractor.get(
        f"/internal/contractors/{contractor_id}", headers=fleet.service_bearer("contract")
    )
    assert record.json()["kycStatus"] == "verified"
    seen = await world.contractor.get(f"/v1/contractors/{contractor_id}", headers=owner.headers)
    assert seen.json()["kycStatus"] == "verified"


async def test_a_rejection_is_recorded_with_its_reason(world: World) -> None:
    _, contractor, accepted = await world.onboarded()
    contractor_id = accepted["contractor"]["id"]
    await world.emit(
        "kyc.rejected", decision(contractor_id, contractor.user_id, "Document expired")
    )
    me = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()
    assert (me["kycStatus"], me["kycReason"]) == ("rejected", "Document expired")
    # A new session later succeeds.
    await world.emit("kyc.verified", decision(contractor_id, contractor.user_id))
    me = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()
    assert (me["kycStatus"], me["kycReason"]) == ("verified", None)


async def test_an_older_decision_arriving_late_changes_nothing(
    fleet: Running, world: World
) -> None:
    _, contractor, accepted = await world.onboarded()
    contractor_id = accepted["contractor"]["id"]
    await world.emit("kyc.verified", decision(contractor_id, contractor.user_id))
    before = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()

    late = decision(contractor_id, contractor.user_id, "Blurry photo")
    event = Delivered(
        "kyc.rejected",
        "mindlinks.kyc",
        Detail(occurred_at="2020-01-01T00:00:00.000000Z", data=late.model_dump(by_alias=True)),
        late,
    )
    handler = fleet.runtime("contractor").consumer
    assert handler is not None
    uow = fleet.runtime("contractor").uow()
    await handler.handlers["kyc.rejected"](event, uow)
    await uow.commit()
    after = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()
    assert after == before


async def test_a_decision_is_applied_once(fleet: Running, world: World) -> None:
    _, contractor, accepted = await world.onboarded()
    contractor_id = accepted["contractor"]["id"]
    event_id = await world.emit("kyc.verified", decision(contractor_id, contractor.user_id))
    version = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()[
        "version"
    ]
    if "kyc" in fleet.apps:
        await fleet.redeliver("kyc", event_id)
    else:
        assert await fleet.runtime("contractor").table("inbox").get({"eventId": event_id})
    again = (await world.contractor.get("/v1/contractors/me", headers=contractor.headers)).json()
    assert again["version"] == version


async def test_an_unknown_contractor_is_skipped(fleet: Running, world: World) -> None:
    event_id = await world.emit("kyc.verified", decision(uuid.uuid4().hex, uuid.uuid4().hex))
    processed = await fleet.runtime("contractor").table("inbox").get({"eventId": event_id})
    assert processed is not None  # consumed, not retried
