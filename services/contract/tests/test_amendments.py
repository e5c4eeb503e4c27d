"""Amendments (issue 16, ADR 0017): the client proposes a new version of an
active contract with its own PDF; the signature service moves it as both
sign (the contractor's signature puts it in force with ``contract.amended``)
or one declines; the client may withdraw it. Funded items are never changed;
only the parties read it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_fleet.teams import PERMISSIONS, CompanyRole

if TYPE_CHECKING:
    from conftest import ClientAccount, Contracting, ContractorAccount

FINAL = b"%PDF-1.4\n% the amendment, signed\n%%EOF\n"
DRAFTERS = [r.value for r in PERMISSIONS["contracts.draft"]]
NOT_DRAFTERS = [r.value for r in CompanyRole if r.value not in DRAFTERS]
MILESTONES = {
    "kind": "milestones",
    "milestones": [
        {"title": "Design", "amountMinor": 50_000, "dueDate": "2026-03-15"},
        {"title": "Build", "amountMinor": 100_000, "dueDate": "2026-03-31"},
    ],
}


def api(world: Contracting) -> httpx.AsyncClient:
    return world.fleet.client("contract")


async def propose(
    world: Contracting, contract_id: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await api(world).post(
        f"/v1/contracts/{contract_id}/amendments",
        headers=headers,
        json={"reason": "The client wants a launch page too.", **body},
    )


async def move(
    world: Contracting,
    contract_id: str,
    number: int,
    to: str,
    actor: str,
    company: str | None = None,
    **extra: Any,
) -> httpx.Response:
    """The signature service's move of the amendment at its version as read."""
    service = world.fleet.service_bearer("signature")
    path = f"/internal/contracts/{contract_id}/amendments/{number}"
    read = await api(world).get(path, headers=service)
    assert read.status_code == 200, read.text
    body: dict[str, Any] = {
        "to": to,
        "expectedVersion": read.json()["version"],
        "actorUserId": actor,
    }
    if company is not None:
        body["actorCompanyId"] = company
    return await api(world).post(f"{path}/transitions", json={**body, **extra}, headers=service)


async def sign_both(
    world: Contracting,
    client: ClientAccount,
    contractor: ContractorAccount,
    contract_id: str,
    number: int,
) -> httpx.Response:
    """Both signatures as the signature service makes them (final document first)."""
    signed = await move(
        world, contract_id, number, "client_signed", client.user_id, client.company_id
    )
    assert signed.status_code == 200, signed.text
    put = await api(world).put(
        f"/internal/contracts/{contract_id}/amendments/{number}/documents/final",
        content=FINAL,
        headers=world.fleet.service_bearer("signature"),
    )
    assert put.status_code == 200, put.text
    return await move(
        world,
        contract_id,
        number,
        "fully_signed",
        contractor.user_id,
        signatureIds=[f"{contract_id}-a{number}-client", f"{contract_id}-a{number}-contractor"],
        ledgerEntryIds=[11, 12],
    )


async def test_a_client_proposes_an_amendment_with_its_own_pdf(world: Contracting) -> None:
    client, contractor = await world.pair()
    contract = await world.active(client, contractor)
    cid = contract["id"]
    response = await propose(world, cid, client.headers, terms=MILESTONES, endDate="2026-04-30")
    assert response.status_code == 201, response.text
    amendment = response.json()
    assert amendment["number"] == 1
    assert amendment["termsVersion"] == 2
    assert amendment["status"] == "sent_for_signature"
    assert amendment["previous"]["totalMinor"] == 150_000
    assert amendment["proposed"]["totalMinor"] == 150_000
    assert amendment["proposed"]["endDate"] == "2026-04-30"
    # The one fixed line is not identical to either milestone: removed, two added.
    assert amendment["removedItemIds"] == [f"{cid}-0"]
    assert amendment["addedItemIds"] == [f"{cid}-a1-0", f"{cid}-a1-1"]

    stored = await world.contract(cid)
    assert stored["openAmendment"] == 1
    assert stored["termsVersion"] == 1
    assert stored["terms"] == contract["terms"], "the terms in force stay until both sign"
    text = world.pdf_text(await amendment_pdf(world, cid, 1))
    assert "Amendment 1" in text
    assert "launch page" in text
    assert "Removed: Website redesign" in text
    assert "Added: Design" in text
    assert "2026-04-30" in text
    (proposed,) = await world.events("contract.amendment-proposed", cid)
    assert proposed["number"] == 1
    assert proposed["proposedByUserId"] == client.user_id


async def amendment_pdf(world: Contracting, contract_id: str, number: int) -> bytes:
    response = await api(world).get(
        f"/internal/contracts/{contract_id}/amendments/{number}/document",
        params={"kind": "original"},
        headers=world.fleet.service_bearer("signature"),
    )
    assert response.status_code == 200, response.text
    return response.content


async def test_both_signatures_put_it_in_force(world: Contracting) -> None:
    client, contractor = await world.pair()
    contract = await world.active(client, contractor, terms=MILESTONES)
    cid = contract["id"]
    world.directory.item_states[cid] = {f"{cid}-0": "released", f"{cid}-1": "pending_funding"}
    changed = {
        "kind": "milestones",
        "milestones": [
            MILESTONES["milestones"][0],
            {"title": "Build", "amountMinor": 120_000, "dueDate": "2026-03-31"},
        ],
    }
    proposed = await propose(world, cid, client.headers, terms=changed, description="More pages.")
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["proposed"]["itemIds"] == [f"{cid}-0", f"{cid}-a1-1"]

    done = await sign_both(world, client, contractor, cid, 1)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "fully_signed"

    now = await world.contract(cid)
    assert now["termsVersion"] == 2
    assert now["openAmendment"] is None
    assert now["terms"] == changed
    assert now["totalMinor"] == 170_000
    assert now["description"] == "More pages."
    (amended,) = await world.events("contract.amended", cid)
    assert amended["number"] == 1
    assert amended["termsVersion"] == 2
    assert amended["removedItemIds"] == [f"{cid}-1"]
    assert amended["addedItemIds"] == [f"{cid}-a1-1"]
    assert [i["itemId"] for i in amended["schedule"]] == [f"{cid}-0", f"{cid}-a1-1"]
    assert amended["ledgerEntryIds"] == [11, 12]
    assert amended["previousTotalMinor"] == 150_000
    assert amended["totalMinor"] == 170_000

    # Every version: the amendment keeps the terms it replaced.
    listed = await api(world).get(f"/v1/contracts/{cid}/amendments", headers=contractor.headers)
    assert listed.status_code == 200, listed.text
    (one,) = listed.json()["items"]
    assert one["previous"]["terms"] == MILESTONES
    assert one["proposed"]["terms"] == changed
    assert one["inForceAt"] is not None
    assert [s["to"] for s in one["history"]] == [
        "sent_for_signature",
        "client_signed",
        "fully_signed",
    ]
    link = await api(world).get(
        f"/v1/contracts/{cid}/amendments/1/pdf", params={"kind": "final"}, headers=client.headers
    )
    assert link.status_code == 200, link.text
    assert link.json()["sha256"] == one["finalPdfSha256"]

    # The next amendment numbers on, and starts from version 2's items.
    again = await propose(world, cid, client.headers, endDate="2026-05-31")
    assert again.status_code == 201, again.text
    assert again.json()["number"] == 2
    assert again.json()["termsVersion"] == 3
    assert again.json()["previous"]["itemIds"] == [f"{cid}-0", f"{cid}-a1-1"]
    assert again.json()["addedItemIds"] == []
    assert again.json()["removedItemIds"] == []


async def test_a_funded_item_is_never_changed(world: Contracting) -> None:
    client, contractor = await world.pair()
    contract = await world.active(client, contractor, terms=MILESTONES)
    cid = contract["id"]
    world.directory.item_states[cid] = {f"{cid}-0": "funded", f"{cid}-1": "pending_funding"}
    cheaper = {
        "kind": "milestones",
        "milestones": [{"title": "Design", "amountMinor": 40_000, "dueDate": "2026-03-15"}],
    }
    refused = await propose(world, cid, client.headers, terms=cheaper)
    body = world.problem(refused, 409, "amendment-changes-funded-item")
    assert body["items"] == [{"itemId": f"{cid}-0", "state": "funded"}]
    assert (await world.contract(cid))["openAmendment"] is None

    # Kept exactly as it is, the rest may change.
    kept = {"kind": "milestones", "milestones": [MILESTONES["milestones"][0]]}
    accepted = await propose(world, cid, client.headers, terms=kept)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["removedItemIds"] == [f"{cid}-1"]

    # Funded meanwhile: the contractor's signature is refused, nothing changes.
    world.directory.item_states[cid][f"{cid}-1"] = "funded"
    late = await sign_both(world, client, contractor, cid, 1)
    world.problem(late, 409, "amendment-changes-funded-item")
    assert (await world.contract(cid))["terms"] == MILESTONES
    withdrawn = await api(world).post(
        f"/v1/contracts/{cid}/amendments/1/withdraw",
        headers=client.headers,
        json={"reason": "Funded in the meantime."},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"


async def test_withdrawn_and_declined_amendments_leave_the_terms(world: Contracting) -> None:
    client, contractor = await world.pair()
    contract = await world.active(client, contractor)
    cid = contract["id"]
    assert (await propose(world, cid, client.headers, endDate="2026-06-30")).status_code == 201
    world.problem(
        await propose(world, cid, client.headers, endDate="2026-07-31"), 409, "amendment-open"
    )

    path = f"/v1/contracts/{cid}/amendments/1/withdraw"
    reason = {"reason": "Not needed after all."}
    world.problem(await api(world).post(path, headers=contractor.headers, json=reason), 403)
    first = await api(world).post(path, headers=client.headers, json=reason)
    assert first.status_code == 200, first.text
    again = await api(world).post(path, headers=client.headers, json=reason)
    assert again.status_code == 200
    assert again.json()["version"] == first.json()["version"]
    (withdrawn,) = await world.events("contract.amendment-withdrawn", cid)
    assert withdrawn["number"] == 1
    assert withdrawn["clientSigned"] is False

    assert (await propose(world, cid, client.headers, endDate="2026-07-31")).status_code == 201
    declined = await move(world, cid, 2, "declined", contractor.user_id, reason="No.")
    assert declined.status_code == 200, declined.text
    now = await world.contract(cid)
    assert now["openAmendment"] is None
    assert now["endDate"] is None
    assert now["termsVersion"] == 1
    world.problem(
        await api(world).post(
            f"/v1/contracts/{cid}/amendments/2/withdraw", headers=client.headers, json=reason
        ),
        409,
        "amendment-not-signable",
    )


async def test_only_the_right_party_moves_it(world: Contracting) -> None:
    client, contractor = await world.pair()
    contract = await world.active(client, contractor)
    cid = contract["id"]
    assert (await propose(world, cid, client.headers, endDate="2026-06-30")).status_code == 201
    world.problem(
        await move(world, cid, 1, "client_signed", contractor.user_id), 409, "invalid-transition"
    )
    world.problem(
        await move(world, cid, 1, "fully_signed", contractor.user_id), 409, "amendment-not-signable"
    )
    other = await world.client()
    world.problem(
        await move(world, cid, 1, "client_signed", other.user_id, other.company_id),
        409,
        "invalid-transition",
    )
    # Only the signature service moves amendments.
    refused = await api(world).post(
        f"/internal/contracts/{cid}/amendments/1/transitions",
        json={"to": "client_signed", "expectedVersion": 1, "actorUserId": client.user_id},
        headers=world.fleet.service_bearer("payment"),
    )
    assert refused.status_code == 403, refused.text


@pytest.mark.parametrize("role", NOT_DRAFTERS)
async def test_members_who_do_not_draft_cannot_propose(world: Contracting, role: str) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.active(client, contractor)
    member = await world.member(client, role)
    world.problem(await propose(world, contract["id"], member.headers, endDate="2026-06-30"), 403)
    # ...but they read the history.
    listed = await api(world).get(
        f"/v1/contracts/{contract['id']}/amendments", headers=member.headers
    )
    assert listed.status_code == 200, listed.text


async def test_strangers_learn_nothing(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.active(client, contractor)
    cid = contract["id"]
    assert (await propose(world, cid, client.headers, endDate="2026-06-30")).status_code == 201
    other_client, other_contractor = await world.pair()
    for headers in (other_client.headers, other_contractor.headers):
        world.problem(
            await propose(world, cid, headers, endDate="2026-06-30"),
            404 if headers is other_client.headers else 403,
        )
        world.problem(
            await api(world).get(f"/v1/contracts/{cid}/amendments/1", headers=headers), 404
        )
        world.problem(await api(world).get(f"/v1/contracts/{cid}/amendments", headers=headers), 404)
    world.problem(
        await api(world).get(f"/v1/contracts/{cid}/amendments/9", headers=client.headers),
        404,
        "amendment-not-found",
    )
    world.problem(await propose(world, "f" * 32, client.headers, endDate="2026-06-30"), 404)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, None),
        ({"endDate": "2026-06-30", "removeEndDate": True}, 422, None),
        (
            {"terms": {"kind": "fixed", "amountMinor": 150_000, "dueDate": "2026-03-31"}},
            422,
            "amendment-changes-nothing",
        ),
        (
            {"terms": {"kind": "fixed", "amountMinor": 1, "dueDate": "2026-02-01"}},
            422,
            "amendment-dates-invalid",
        ),
        ({"endDate": "2026-03-15"}, 422, "amendment-dates-invalid"),
        ({"terms": {"kind": "fixed", "amountMinor": -5, "dueDate": "2026-03-31"}}, 422, None),
        ({"endDate": "31/12/2026"}, 422, None),
    ],
)
async def test_bad_proposals_are_refused(
    world: Contracting, body: dict[str, Any], status: int, code: str | None
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.active(client, contractor)
    world.problem(await propose(world, contract["id"], client.headers, **body), status, code)
    assert (await world.contract(contract["id"]))["openAmendment"] is None


async def test_only_an_active_contract_is_amended(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    world.problem(
        await propose(world, draft["id"], client.headers, endDate="2026-06-30"),
        409,
        "contract-not-amendable",
    )


async def test_two_proposals_at_once_make_one_amendment(world: Contracting) -> None:
    client, contractor = await world.pair()
    contract = await world.active(client, contractor)
    cid = contract["id"]
    answers = await asyncio.gather(
        propose(world, cid, client.headers, endDate="2026-06-30"),
        propose(world, cid, client.headers, endDate="2026-07-31"),
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    (lost,) = [a for a in answers if a.status_code == 409]
    world.problem(lost, 409, "amendment-open")
    listed = await api(world).get(f"/v1/contracts/{cid}/amendments", headers=client.headers)
    assert [a["number"] for a in listed.json()["items"]] == [1]
