"""Signing an amendment (issue 16, ADR 0017) is signing the contract again,
over the amendment's own document: step-up for that amendment, the client
first, the ledger's entries, a sealed final PDF with its certificate that
verification by upload finds — and the contractor's signature puts it in
force at the contract service."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import ClientAccount, ContractorAccount, Parties

PDF = {"Content-Type": "application/pdf"}


@pytest.fixture(autouse=True)
def unthrottled(world: Parties) -> Iterator[None]:
    throttle = world.fleet.deps("signature").throttle
    limit, throttle.limit = throttle.limit, 10_000
    yield
    throttle.limit = limit


async def proposed(world: Parties) -> tuple[ClientAccount, ContractorAccount, dict[str, Any]]:
    """An active contract of a new pair with amendment 1 proposed (a later end date)."""
    client, contractor = await world.pair()
    contract = await world.draft(client, contractor)
    cid = contract["id"]
    sent = await world.fleet.client("contract").post(
        f"/v1/contracts/{cid}/send", headers=client.headers
    )
    assert sent.status_code == 200, sent.text
    assert (await world.sign(client, cid)).status_code == 201
    assert (await world.sign(contractor, cid)).status_code == 201
    if (await world.contract(cid))["status"] != "active":
        # The ledger's activation, as the contract service hears it (once).
        await world.emit("ledger", "ledger.contract-activated", world.activated(contract))
    response = await world.fleet.client("contract").post(
        f"/v1/contracts/{cid}/amendments",
        headers=client.headers,
        json={"reason": "Two more weeks.", "endDate": "2026-04-30"},
    )
    assert response.status_code == 201, response.text
    return client, contractor, await world.contract(cid)


async def test_both_sign_the_amendment_and_it_is_in_force(world: Parties) -> None:
    client, contractor, contract = await proposed(world)
    cid = contract["id"]
    first = await world.sign_amendment(client, cid, 1)
    assert first.status_code == 201, first.text
    assert first.json()["contractStatus"] == "client_signed"
    assert first.json()["amendment"] == 1
    assert first.json()["id"] == f"{cid}-a1-client"
    (told,) = await world.events("signature.amendment-client-signed", cid)
    assert told["amendment"] == 1
    assert told["signerRole"] == "client"

    second = await world.sign_amendment(contractor, cid, 1)
    assert second.status_code == 201, second.text
    assert second.json()["contractStatus"] == "fully_signed"
    now = await world.contract(cid)
    assert now["termsVersion"] == 2
    assert now["endDate"] == "2026-04-30"
    (amended,) = await world.events("contract.amended", cid, service="contract")
    assert amended["signatureIds"] == [f"{cid}-a1-client", f"{cid}-a1-contractor"]
    assert amended["finalPdfSha256"] == second.json()["finalPdfSha256"]
    # The contract's own completion is not announced again.
    assert len(await world.events("signature.completed", cid)) == 1

    entries = [e for e in await world.ledger_entries(cid) if e["data"].get("amendment") == 1]
    assert [e["data"]["signerRole"] for e in entries] == ["client", "contractor"]
    assert entries[0]["data"]["stepUp"]["method"] in ("email", "totp")

    # The sealed amendment is found by upload, with its own signers only.
    final = await amendment_document(world, cid, 1, "final")
    assert hashlib.sha256(final).hexdigest() == amended["finalPdfSha256"]
    assert "amendment 1" in world.pdf_text(final)
    verdict = await world.fleet.client("signature").post(
        "/v1/signatures/verify", content=final, headers=PDF
    )
    assert verdict.status_code == 200, verdict.text
    body = verdict.json()
    assert (body["ours"], body["intact"], body["amendment"]) == (True, True, 1)
    assert [s["ledgerSeq"] for s in body["signatures"]] == [e["seq"] for e in entries]

    # Signing again is answered, not repeated.
    world.problem(await world.sign_amendment(contractor, cid, 1), 409, "already-signed")


async def amendment_document(world: Parties, contract_id: str, number: int, kind: str) -> bytes:
    response = await world.fleet.client("contract").get(
        f"/internal/contracts/{contract_id}/amendments/{number}/document",
        params={"kind": kind},
        headers=world.fleet.service_bearer("signature"),
    )
    assert response.status_code == 200, response.text
    return response.content


async def test_the_step_up_is_for_this_amendment(world: Parties) -> None:
    client, _, contract = await proposed(world)
    cid = contract["id"]
    for_the_contract = world.step_up(client, cid)
    body = world.problem(
        await world.sign_amendment(client, cid, 1, stepUpToken=for_the_contract),
        403,
        "step-up-required",
    )
    assert body["stepUp"]["purpose"] == f"amendment-sign:{cid}-a1"
    world.problem(await world.sign_amendment(client, cid, 1, stepUpToken=None), 403)


async def test_the_client_signs_first_and_either_may_decline(world: Parties) -> None:
    client, contractor, contract = await proposed(world)
    cid = contract["id"]
    world.problem(await world.sign_amendment(contractor, cid, 1), 409, "client-must-sign-first")
    assert (await world.sign_amendment(client, cid, 1)).status_code == 201
    declined = await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{cid}/amendments/1/decline",
        headers=contractor.headers,
        json={"reason": "The end date does not work for me."},
    )
    assert declined.status_code == 200, declined.text
    (event,) = await world.events("signature.amendment-declined", cid)
    assert event["amendment"] == 1
    assert event["declinedByRole"] == "contractor"
    now = await world.contract(cid)
    assert now["openAmendment"] is None
    assert now["termsVersion"] == 1
    assert now["endDate"] is None
    world.problem(await world.sign_amendment(contractor, cid, 1), 409, "contract-not-signable")


async def test_a_payment_funded_meanwhile_stops_the_contractor(world: Parties) -> None:
    client, contractor = await world.pair()
    contract = await world.draft(client, contractor)
    cid = contract["id"]
    await world.fleet.client("contract").post(f"/v1/contracts/{cid}/send", headers=client.headers)
    assert (await world.sign(client, cid)).status_code == 201
    assert (await world.sign(contractor, cid)).status_code == 201
    if (await world.contract(cid))["status"] != "active":
        await world.emit("ledger", "ledger.contract-activated", world.activated(contract))
    smaller = {"kind": "fixed", "amountMinor": 100_000, "dueDate": "2026-03-31"}
    assert (
        await world.fleet.client("contract").post(
            f"/v1/contracts/{cid}/amendments",
            headers=client.headers,
            json={"reason": "Less work.", "terms": smaller},
        )
    ).status_code == 201
    assert (await world.sign_amendment(client, cid, 1)).status_code == 201
    world.directory.item_states[cid] = {f"{cid}-0": "funded"}
    world.problem(
        await world.sign_amendment(contractor, cid, 1), 409, "amendment-changes-funded-item"
    )
    assert (await world.contract(cid))["totalMinor"] == 150_000


async def test_strangers_and_unknown_amendments(world: Parties) -> None:
    client, _, contract = await proposed(world)
    cid = contract["id"]
    stranger, stranger_contractor = await world.pair()
    for account in (stranger, stranger_contractor):
        world.problem(await world.sign_amendment(account, cid, 1), 404, "contract-not-found")
    world.problem(await world.sign_amendment(client, cid, 7), 404, "contract-not-found")
    bad: httpx.Response = await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{cid}/amendments/0/sign",
        headers=client.headers,
        json={"consent": True, "signatureName": "Ada Owner"},
    )
    world.problem(bad, 422)
