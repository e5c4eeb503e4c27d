"""Security issue #9 item 3: once KYC verifies a contractor, their legal name
is the verified one and cannot be changed through the profile; the display
name stays free. Verified through the real kyc service: a session, the local
provider's signed Veriff-format decision, ``kyc.verified`` on the real path."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running, installed_services
from mindlinks_fleet.events import KycDecided

if TYPE_CHECKING:
    from conftest import Account, World

pytestmark = pytest.mark.skipif("kyc" not in installed_services(), reason="needs the kyc service")


async def open_session(fleet: Running, world: World, contractor: Account) -> str:
    local = fleet.deps("kyc").providers.local
    local.deliver_through(fleet.client("kyc"))  # its webhook is the kyc app itself
    opened = await fleet.client("kyc").post("/v1/kyc/sessions", headers=contractor.headers)
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


async def decide(fleet: Running, session_id: str, **body: Any) -> None:
    decided = await fleet.client("kyc").post(
        f"/v1/kyc/dev/sessions/{session_id}/decide", json={"decision": "approved", **body}
    )
    assert decided.status_code == 202, decided.text
    await fleet.deliver()


async def me(world: World, contractor: Account) -> dict[str, Any]:
    response = await world.contractor.get("/v1/contractors/me", headers=contractor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def record(fleet: Running, world: World, contractor_id: str) -> dict[str, Any]:
    response = await world.contractor.get(
        f"/internal/contractors/{contractor_id}", headers=fleet.service_bearer("contract")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_verified_legal_name_cannot_be_renamed(fleet: Running, world: World) -> None:
    _, contractor, accepted = await world.onboarded("Grace Hopper")
    contractor_id = accepted["contractor"]["id"]
    await decide(fleet, await open_session(fleet, world, contractor))
    verified = await me(world, contractor)
    renamed = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"name": "Mallory Mallet", "version": verified["version"]},
    )
    body = world.problem(renamed, 409, "legal-name-locked")
    assert "new identity verification" in body["detail"]
    assert body["type"].endswith("/legal-name-locked")
    # Case or spacing is a rename too.
    recased = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"name": "GRACE HOPPER", "version": verified["version"]},
    )
    world.problem(recased, 409, "legal-name-locked")

    after = await me(world, contractor)
    assert after == verified
    assert (after["kycStatus"], after["verifiedLegalName"]) == ("verified", "Grace Hopper")
    peer = await record(fleet, world, contractor_id)
    assert (peer["name"], peer["verifiedLegalName"]) == ("Grace Hopper", "Grace Hopper")


async def test_the_display_name_and_other_fields_stay_free(fleet: Running, world: World) -> None:
    _, contractor, accepted = await world.onboarded("Grace Hopper")
    await decide(fleet, await open_session(fleet, world, contractor))
    version = (await me(world, contractor))["version"]

    # A dashboard re-sending the whole form with the same legal name is fine.
    edited = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={
            "name": "Grace Hopper",
            "displayName": "  Amazing Grace ",
            "phone": "+447700900123",
            "version": version,
        },
    )
    assert edited.status_code == 200, edited.text
    assert (
        edited.json()["name"],
        edited.json()["displayName"],
        edited.json()["verifiedLegalName"],
        edited.json()["phone"],
        edited.json()["version"],
    ) == ("Grace Hopper", "Amazing Grace", "Grace Hopper", "+447700900123", version + 1)
    cleared = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"displayName": None, "version": version + 1},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["displayName"] is None
    peer = await record(fleet, world, accepted["contractor"]["id"])
    assert peer["verifiedLegalName"] == "Grace Hopper"


async def test_the_name_verified_is_the_sessions_not_a_later_rename(
    fleet: Running, world: World
) -> None:
    """Renaming while the provider checks the document does not smuggle the new
    name past the verification."""
    _, contractor, accepted = await world.onboarded("Grace Hopper")
    session_id = await open_session(fleet, world, contractor)
    pending = await me(world, contractor)
    renamed = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"name": "Mallory Mallet", "version": pending["version"]},
    )
    assert renamed.status_code == 200, renamed.text  # not verified yet: editable
    await decide(fleet, session_id)

    verified = await me(world, contractor)
    assert (verified["kycStatus"], verified["name"], verified["verifiedLegalName"]) == (
        "verified",
        "Grace Hopper",
        "Grace Hopper",
    )
    peer = await record(fleet, world, accepted["contractor"]["id"])
    assert peer["verifiedLegalName"] == "Grace Hopper"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("GRACE  HOPPER", "Grace Hopper"),  # MRZ capitals: the applicant's spelling is kept
        ("Grace Brewster Hopper", "Grace Brewster Hopper"),  # the document is the truth
    ],
)
async def test_the_provider_reported_name_is_the_verified_one(
    fleet: Running, world: World, document: str, expected: str
) -> None:
    _, contractor, _ = await world.onboarded("Grace Hopper")
    await decide(fleet, await open_session(fleet, world, contractor), documentName=document)
    verified = await me(world, contractor)
    assert (verified["name"], verified["verifiedLegalName"]) == (expected, expected)


async def test_a_rejection_unlocks_the_legal_name(fleet: Running, world: World) -> None:
    """An operator overturning the verification (the route to a new one)."""
    _, contractor, accepted = await world.onboarded("Grace Hopper")
    await decide(fleet, await open_session(fleet, world, contractor))
    await world.emit(
        "kyc.rejected",
        KycDecided(
            session_id=uuid.uuid4().hex,
            contractor_id=accepted["contractor"]["id"],
            user_id=contractor.user_id,
            provider="veriff",
            reason="Legal name change requested",
        ),
    )
    rejected = await me(world, contractor)
    assert (rejected["kycStatus"], rejected["verifiedLegalName"]) == ("rejected", None)
    renamed = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"name": "Grace Brewster Hopper", "version": rejected["version"]},
    )
    assert renamed.status_code == 200, renamed.text
