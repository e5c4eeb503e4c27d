"""One active company per registry number (security issue #9): a second
claim is held for an admin, the first owner is told, and approving it
while the number is held is refused; the officer check of the person
registering."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from mindlinks_dev.harness import Running
from mindlinks_dev.local_companies import local_company

if TYPE_CHECKING:
    from conftest import Account, World


async def review(fleet: Running, company_id: str, **body: Any) -> Any:
    return await fleet.client("client").post(
        f"/internal/clients/companies/{company_id}/review",
        headers=fleet.service_bearer("admin"),
        json={"decidedBy": "admin-1", **body},
    )


async def admin_record(fleet: Running, company_id: str, status: str) -> dict[str, Any]:
    """The company as the admin service lists it."""
    cursor: str | None = None
    while True:
        params = {"status": status, "limit": "100", **({"cursor": cursor} if cursor else {})}
        response = await fleet.client("client").get(
            "/internal/clients/companies", headers=fleet.service_bearer("admin"), params=params
        )
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            if item["id"] == company_id:
                found: dict[str, Any] = item
                return found
        cursor = response.json()["nextCursor"]
        assert cursor, f"{company_id} is not listed as {status}"


async def claim(world: World, number: str, legal_name: str, name: str) -> tuple[Account, Any]:
    account = await world.account(name=name)
    response = await world.register(account, number, legal_name)
    assert response.status_code == 201, response.text
    return account, response.json()


def email_of(mails: list[dict[str, Any]], template: str) -> list[dict[str, Any]]:
    return [m for m in mails if m["template"] == template]


async def test_a_registry_number_belongs_to_one_active_company(world: World) -> None:
    """The regression: a second account registering a number another already
    registered was active at once, and could invite as that company."""
    await claim(world, "11223344", "Bright Consulting Ltd", "Grace Hopper")
    # Whoever holds it now (that owner, or an earlier test's), it is held.
    second, taken = await claim(world, "11223344", "Bright Consulting Ltd", "Grace Hopper")
    assert taken["status"] == "pending_review"
    assert "number-already-registered" in taken["holdReasons"]
    world.problem(
        await world.invite(second, f"c{uuid.uuid4().hex[:12]}@example.com"),
        409,
        "company-not-active",
    )


async def test_a_second_claim_is_held_and_the_first_owner_told(
    fleet: Running, world: World
) -> None:
    local = local_company()
    first, held_number = await claim(world, local.company_number, local.legal_name, "Olivia Owner")
    assert (held_number["status"], held_number["holdReasons"]) == ("active", [])
    second, contested = await claim(
        world, local.company_number, local.legal_name, "Mallory Claimant"
    )
    assert (contested["status"], contested["holdReasons"]) == (
        "pending_review",
        ["number-already-registered"],
    )
    # The claimant is not told whose company it is.
    assert held_number["id"] not in str(contested)
    world.problem(
        await world.invite(second, f"c{uuid.uuid4().hex[:12]}@example.com"),
        409,
        "company-not-active",
    )
    # The first company goes on as before.
    assert (await world.invite(first, f"c{uuid.uuid4().hex[:12]}@example.com")).status_code == 201

    [event] = await fleet.published(
        "client", "company.claim-contested", claimCompanyId=contested["id"]
    )
    assert event == {
        "companyId": held_number["id"],
        "ownerUserId": first.user_id,
        "legalName": local.legal_name,
        "jurisdictionCode": "gb",
        "companyNumber": local.company_number,
        "claimCompanyId": contested["id"],
        "claimOwnerUserId": second.user_id,
    }
    await fleet.deliver()
    [mail] = email_of(await world.mailbox(first.email), "company.claim-contested")
    assert local.legal_name in mail["subject"]
    assert f"GB {local.company_number}" in mail["text"]
    assert second.email not in mail["text"]
    assert "Mallory" not in mail["text"]
    assert email_of(await world.mailbox(second.email), "company.claim-contested") == []
    [note] = [n for n in await world.in_app(first) if n["template"] == "company.claim-contested"]
    assert local.legal_name in note["title"]

    record = await admin_record(fleet, contested["id"], "pending_review")
    assert (record["conflictsWith"], record["holdReasons"]) == (
        held_number["id"],
        ["number-already-registered"],
    )
    assert record["authority"] == {"check": "no-officer-list", "officer": None, "position": None}


async def test_an_admin_cannot_approve_a_claim_while_the_number_is_held(
    fleet: Running, world: World
) -> None:
    local = local_company()
    _, active = await claim(world, local.company_number, local.legal_name, "Olivia Owner")
    claimant, contested = await claim(world, local.company_number, local.legal_name, "Eve")
    refused = await review(fleet, contested["id"], decision="approved")
    body = world.problem(refused, 409, "company-number-taken")
    assert body["holderCompanyId"] == active["id"]
    assert local.company_number in body["detail"]
    assert await fleet.published("client", "company.reviewed", companyId=contested["id"]) == []
    me = await world.client.get("/v1/clients/me", headers=claimant.headers)
    assert me.json()["status"] == "pending_review"
    # The admin rejects the claim instead; the owner of the claim is told why.
    rejected = await review(fleet, contested["id"], decision="rejected", reason="Not the owner")
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")


async def test_an_approved_claim_takes_the_number(fleet: Running, world: World) -> None:
    """A company held for another reason (its name) holds no number; approved,
    it does, and a later claim is held."""
    local = local_company()
    _, misnamed = await claim(world, local.company_number, "Some Other Name Ltd", "Ada Owner")
    assert misnamed["holdReasons"] == ["name-mismatch"]
    assert (await review(fleet, misnamed["id"], decision="approved")).status_code == 200
    _, later = await claim(world, local.company_number, local.legal_name, "Late Comer")
    assert (later["status"], later["holdReasons"]) == (
        "pending_review",
        ["number-already-registered"],
    )
    record = await admin_record(fleet, later["id"], "pending_review")
    assert record["conflictsWith"] == misnamed["id"]


async def test_two_approvals_of_one_number_cannot_both_apply(fleet: Running, world: World) -> None:
    local = local_company()
    held = [
        (await claim(world, local.company_number, f"Other Name {i} Ltd", "Ada Owner"))[1]
        for i in range(2)
    ]
    answers = await asyncio.gather(
        *(review(fleet, company["id"], decision="approved") for company in held)
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["code"] == "company-number-taken"


async def test_concurrent_registrations_of_one_number(world: World) -> None:
    local = local_company()
    accounts = [await world.account(name=f"Racer {i}") for i in range(3)]
    answers = await asyncio.gather(
        *(world.register(a, local.company_number, local.legal_name) for a in accounts)
    )
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["active", "pending_review", "pending_review"]
    for answer in answers:
        if answer.json()["status"] == "pending_review":
            assert answer.json()["holdReasons"] == ["number-already-registered"]


async def test_the_person_registering_must_be_an_officer(fleet: Running, world: World) -> None:
    """``gb/12345678`` lists LOVELACE, Augusta Ada (director), BABBAGE, Charles
    (secretary) and MOSES, Robert (resigned). Another test's company may hold
    the number already: only the officer check is asserted here."""
    for name, check in (
        ("Mallory Evil", "not-matched"),
        ("Robert Moses", "not-matched"),
        ("Dr Ada Lovelace", "matched"),
        ("charles babbage", "matched"),
    ):
        _, company = await claim(world, "12345678", "Acme Widgets Ltd", name)
        assert ("officer-not-matched" in company["holdReasons"]) is (check == "not-matched")
        record = await admin_record(fleet, company["id"], company["status"])
        assert record["authority"]["check"] == check
    matched = record["authority"]
    assert (matched["officer"], matched["position"]) == ("BABBAGE, Charles", "secretary")


async def revoke(fleet: Running, company_id: str, service: str = "admin", **body: Any) -> Any:
    return await fleet.client("client").post(
        f"/internal/clients/companies/{company_id}/revoke",
        headers=fleet.service_bearer(service),
        json={"decidedBy": "admin-1", **body},
    )


async def test_revoking_the_holder_frees_the_number_for_the_claim(
    fleet: Running, world: World
) -> None:
    """The admin sides with the claimant: the first company is taken out of
    service (its owner told why), then the claim can be approved."""
    local = local_company()
    first, active = await claim(world, local.company_number, local.legal_name, "Olivia Owner")
    _, contested = await claim(world, local.company_number, local.legal_name, "Real Owner")
    response = await revoke(fleet, active["id"], reason="The registry's director confirmed")
    assert response.status_code == 200, response.text
    revoked = response.json()
    assert (revoked["status"], revoked["review"]["decision"]) == ("rejected", "rejected")
    assert revoked["review"]["reason"] == "The registry's director confirmed"
    [event] = await fleet.published("client", "company.reviewed", companyId=active["id"])
    assert (event["decision"], event["reason"]) == ("rejected", "The registry's director confirmed")
    world.problem(
        await world.invite(first, f"c{uuid.uuid4().hex[:12]}@example.com"),
        409,
        "company-not-active",
    )
    # Again: a retry, nothing more is published.
    again = await revoke(fleet, active["id"], reason="twice")
    assert (again.status_code, again.json()) == (200, revoked)
    assert len(await fleet.published("client", "company.reviewed", companyId=active["id"])) == 1

    approved = await review(fleet, contested["id"], decision="approved")
    assert (approved.status_code, approved.json()["status"]) == (200, "active")
    # The revoked company cannot come back by an approval: it was never held.
    world.problem(await review(fleet, active["id"], decision="approved"), 409, "not-pending-review")


async def test_only_an_active_company_is_revoked_and_only_by_the_admin(
    fleet: Running, world: World
) -> None:
    local = local_company()
    owner, held = await claim(world, local.company_number, "Some Other Name Ltd", "Ada Owner")
    world.problem(await revoke(fleet, held["id"], reason="no"), 409, "company-not-active")
    world.problem(await revoke(fleet, uuid.uuid4().hex, reason="no"), 404, "not-found")
    active_owner = await world.company_owner()
    active = await world.client.get("/v1/clients/me", headers=active_owner.headers)
    company_id = active.json()["id"]
    world.problem(await revoke(fleet, company_id, "contract", reason="no"), 403, "forbidden")
    for headers in ({}, owner.headers, fleet.bearer("admin-1", "admin")):
        response = await world.client.post(
            f"/internal/clients/companies/{company_id}/revoke",
            headers=headers,
            json={"reason": "no", "decidedBy": "admin-1"},
        )
        world.problem(response, 401, "unauthorized")
    for body in ({}, {"reason": "  "}, {"reason": "x" * 501}, {"reason": "ok", "decidedBy": ""}):
        response = await world.client.post(
            f"/internal/clients/companies/{company_id}/revoke",
            headers=fleet.service_bearer("admin"),
            json={"decidedBy": "admin-1", **body},
        )
        world.problem(response, 422, "invalid-input")
    me = await world.client.get("/v1/clients/me", headers=active_owner.headers)
    assert me.json()["status"] == "active"
