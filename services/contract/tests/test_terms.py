"""The contract's escrow terms: ``reviewDays`` (1..90, default 14) and
``noticeDays`` (0..180, default 0) — taken on drafting, shown on every read,
written into the PDF's payment terms, and carried in the activation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
