"""The contract's escrow terms: ``reviewDays`` (1..90, default 14) and
``noticeDays`` (0..180, default 0) — taken on drafting, changed on a draft
(``PATCH``), shown on every read and written into the PDF's payment terms."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import Parties


def flat(text: str) -> str:
    return " ".join(text.split())


async def test_a_draft_has_the_default_terms(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    assert (contract["reviewDays"], contract["noticeDays"]) == (14, 0)
    assert contract["termination"] is None
    assert contract["terminationEndsAt"] is None
    assert contract["terminatedAt"] is None
    text = flat(world.pdf_text(await world.document(contract["id"])))
    assert "not answered within 14 days is released on its own" in text
    assert "Either party may terminate the contract at once." in text


async def test_the_terms_are_shown_on_every_read_and_in_the_pdf(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor, reviewDays=21, noticeDays=30)
    assert (contract["reviewDays"], contract["noticeDays"]) == (21, 30)
    cid = contract["id"]
    for headers in (client.headers, contractor.headers):
        read = await world.fleet.client("contract").get(f"/v1/contracts/{cid}", headers=headers)
        assert (read.json()["reviewDays"], read.json()["noticeDays"]) == (21, 30)
    listed = await world.fleet.client("contract").get("/v1/contracts", headers=client.headers)
    [mine] = [c for c in listed.json()["items"] if c["id"] == cid]
    assert (mine["reviewDays"], mine["noticeDays"]) == (21, 30)
    internal = await world.contract(cid)
    assert (internal["reviewDays"], internal["noticeDays"]) == (21, 30)
    text = flat(world.pdf_text(await world.document(cid)))
    assert "not answered within 21 days is released on its own" in text
    assert "terminate the contract with 30 days' notice" in text


async def test_the_bounds_are_accepted(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    low = await world.draft(client, contractor, reviewDays=1, noticeDays=0)
    assert (low["reviewDays"], low["noticeDays"]) == (1, 0)
    high = await world.draft(client, contractor, reviewDays=90, noticeDays=180)
    assert (high["reviewDays"], high["noticeDays"]) == (90, 180)
    text = flat(world.pdf_text(await world.document(low["id"])))
    assert "within 1 day is released" in text


@pytest.mark.parametrize(
    "change",
    [
        {"reviewDays": 0},
        {"reviewDays": 91},
        {"reviewDays": -1},
        {"reviewDays": "14"},
        {"reviewDays": 7.5},
        {"reviewDays": True},
        {"reviewDays": None},
        {"noticeDays": -1},
        {"noticeDays": 181},
        {"noticeDays": "30"},
        {"noticeDays": 1.5},
        {"noticeDays": None},
    ],
)
async def test_terms_out_of_range_are_refused(world: Parties, change: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    response = await world.fleet.client("contract").post(
        "/v1/contracts", json=world.body(contractor, **change), headers=client.headers
    )
    body = world.problem(response, 422)
    assert "errors" in body or body["detail"]


async def change(
    world: Parties, contract_id: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await world.fleet.client("contract").patch(
        f"/v1/contracts/{contract_id}", headers=headers, json=body
    )


async def test_a_drafts_terms_change_with_its_pdf(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    manager = await world.member(client, "manager")
    contract = await world.draft(client, contractor)
    cid = contract["id"]
    response = await change(world, cid, manager.headers, version=1, reviewDays=30, noticeDays=60)
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["reviewDays"], changed["noticeDays"], changed["version"]) == (30, 60, 2)
    assert changed["status"] == "draft"
    assert changed["pdfSha256"] != contract["pdfSha256"]
    assert await world.contract(cid) == changed
    link = await world.fleet.client("contract").get(
        f"/v1/contracts/{cid}/pdf", headers=client.headers
    )
    assert link.json()["sha256"] == changed["pdfSha256"]
    async with httpx.AsyncClient() as http:
        pdf = (await http.get(link.json()["url"])).content
    assert hashlib.sha256(pdf).hexdigest() == changed["pdfSha256"]
    text = flat(world.pdf_text(pdf))
    assert "not answered within 30 days is released on its own" in text
    assert "terminate the contract with 60 days' notice" in text

    # One of the two alone; the same terms again change nothing.
    only = await change(world, cid, client.headers, version=2, noticeDays=7)
    assert (only.json()["reviewDays"], only.json()["noticeDays"]) == (30, 7)
    same = await change(world, cid, client.headers, version=3, noticeDays=7)
    assert same.json() == only.json()

    # Sent, the signature service reads the document the contract names.
    sent = await world.fleet.client("contract").post(
        f"/v1/contracts/{cid}/send", headers=client.headers
    )
    assert sent.status_code == 200, sent.text
    signed_over = await world.document(cid)
    assert hashlib.sha256(signed_over).hexdigest() == only.json()["pdfSha256"]
    world.problem(
        await change(world, cid, client.headers, version=4, reviewDays=10),
        409,
        "contract-not-draft",
    )


async def test_a_drafts_terms_change_only_for_its_companys_drafters(world: Parties) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    cid = contract["id"]
    viewer = await world.member(client, "viewer")
    other, _ = await world.pair()
    world.problem(await change(world, cid, viewer.headers, version=1, reviewDays=2), 403)
    world.problem(await change(world, cid, contractor.headers, version=1, reviewDays=2), 403)
    world.problem(
        await change(world, cid, other.headers, version=1, reviewDays=2), 404, "contract-not-found"
    )
    world.problem(
        await change(world, "0" * 32, client.headers, version=1, reviewDays=2),
        404,
        "contract-not-found",
    )
    world.problem(
        await change(world, cid, client.headers, version=5, reviewDays=2), 409, "stale-version"
    )
    assert await world.contract(cid) == contract


@pytest.mark.parametrize(
    "body",
    [
        {"reviewDays": 20},
        {"version": 1},
        {"version": 1, "reviewDays": None, "noticeDays": None},
        {"version": "1", "reviewDays": 20},
        {"version": 0, "reviewDays": 20},
        {"version": 1, "reviewDays": 0},
        {"version": 1, "noticeDays": 181},
        {"version": 1, "noticeDays": "3"},
        {"version": 1, "reviewDays": 20, "title": "Other"},
    ],
)
async def test_a_bad_change_is_refused(world: Parties, body: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    world.problem(await change(world, contract["id"], client.headers, **body), 422)
