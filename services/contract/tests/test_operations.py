"""The admin service's routes: contracts across tenants, and the admin void
(the client's move, made for a client), with who may call them."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_dev import lists

if TYPE_CHECKING:
    from conftest import ClientAccount, Contracting, ContractorAccount

FINAL = b"%PDF-1.4\n% signed by both\n%%EOF\n"
LIST = "/internal/contracts"
PATH: list[str] = [
    "draft",
    "sent_for_signature",
    "client_signed",
    "fully_signed",
    "active",
    "completed",
]


def admin(world: Contracting) -> dict[str, str]:
    return world.fleet.service_bearer("admin")


async def advance(
    world: Contracting,
    client: ClientAccount,
    contractor: ContractorAccount,
    to: str,
    **overrides: Any,
) -> dict[str, Any]:
    """A new contract moved to ``to`` the way production moves it: the client
    sends, the signature service signs (and declines), the ledger's and
    payment's events activate and complete."""
    contract = await world.draft(client, contractor, **overrides)
    cid = contract["id"]
    api = world.fleet.client("contract")
    signature = world.fleet.service_bearer("signature")

    async def move(body: dict[str, Any]) -> None:
        moved = await api.post(
            f"/internal/contracts/{cid}/transitions", json=body, headers=signature
        )
        assert moved.status_code == 200, moved.text

    steps = PATH[: PATH.index(to) + 1] if to != "declined" else PATH[:2]
    for status in steps[1:]:
        if status == "sent_for_signature":
            sent = await api.post(f"/v1/contracts/{cid}/send", headers=client.headers)
            assert sent.status_code == 200, sent.text
        elif status == "client_signed":
            await move({"to": status, "expectedVersion": 2, "actorUserId": client.user_id})
        elif status == "fully_signed":
            put = await api.put(
                f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=signature
            )
            assert put.status_code == 200, put.text
            await move({"to": status, "expectedVersion": 4, "actorUserId": contractor.user_id})
        elif status == "active":
            await world.emit("ledger", "ledger.contract-activated", world.activated(contract, 9))
        elif status == "completed":
            await world.emit("payment", "payment.item-settled", world.settled(contract))
    if to == "declined":
        await move({"to": "declined", "expectedVersion": 2, "actorUserId": contractor.user_id})
    current = await read(world, cid)
    assert current["status"] == to, current
    return current


async def read(world: Contracting, contract_id: str) -> dict[str, Any]:
    response = await world.fleet.client("contract").get(
        f"/internal/contracts/{contract_id}", headers=admin(world)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def void(
    world: Contracting, contract_id: str, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return await world.fleet.client("contract").post(
        f"/internal/contracts/{contract_id}/void",
        json=body or {"reason": "  Fraud report 4711  ", "actorUserId": "admin-9"},
        headers=admin(world) if headers is None else headers,
    )


# -- the admin void ----------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "sent_for_signature", "client_signed"])
async def test_an_admin_voids_until_it_is_fully_signed(world: Contracting, status: str) -> None:
    client, contractor = await world.shared_pair()
    contract = await advance(world, client, contractor, status)
    voided = await void(world, contract["id"])
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert (body["status"], body["version"]) == ("voided", contract["version"] + 1)
    assert body["history"][-1] == {
        "from": status,
        "to": "voided",
        "at": body["updatedAt"],
        "actorUserId": "admin-9",
        "actorService": "admin",
        "reason": "Fraud report 4711",
    }
    [event] = await world.events("contract.voided", contract["id"])
    assert event["reason"] == "Fraud report 4711"
    assert event["clientCompanyId"] == client.company_id

    # Again (the admin service retrying): the contract as it is, no second event.
    again = await void(world, contract["id"], reason="Another reason", actorUserId="admin-2")
    assert again.status_code == 200, again.text
    assert again.json() == body
    assert len(await world.events("contract.voided", contract["id"])) == 1


@pytest.mark.parametrize("status", ["fully_signed", "active", "completed", "declined"])
async def test_no_void_once_fully_signed_or_ended(world: Contracting, status: str) -> None:
    client, contractor = await world.shared_pair()
    contract = await advance(world, client, contractor, status)
    world.problem(await void(world, contract["id"]), 409, "invalid-transition")
    assert await read(world, contract["id"]) == contract
    assert await world.events("contract.voided", contract["id"]) == []


async def test_a_void_racing_the_clients_lands_once(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await advance(world, client, contractor, "sent_for_signature")
    by_client, by_admin = await asyncio.gather(
        world.fleet.client("contract").post(
            f"/v1/contracts/{contract['id']}/void", json={"reason": "mine"}, headers=client.headers
        ),
        void(world, contract["id"]),
    )
    # The admin's void re-reads on a lost race and finds the contract voided.
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["status"] == "voided"
    assert by_client.status_code in (200, 409), by_client.text
    assert len(await world.events("contract.voided", contract["id"])) == 1


async def test_the_admin_void_checks_its_input_and_target(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    for body in (
        {"reason": "", "actorUserId": "a"},
        {"reason": "   ", "actorUserId": "a"},
        {"reason": "x" * 501, "actorUserId": "a"},
        {"reason": "ok"},
        {"reason": "ok", "actorUserId": ""},
        {"reason": "ok", "actorUserId": "a", "force": True},
    ):
        world.problem(await void(world, contract["id"], **body), 422, "invalid-input")
    world.problem(await void(world, uuid.uuid4().hex), 404, "contract-not-found")
    assert (await read(world, contract["id"]))["status"] == "draft"


# -- contracts across tenants ---------------------------------------------------------


async def walk(world: Contracting, limit: int, **params: str) -> list[dict[str, Any]]:
    return await lists.read_all(world.fleet.client("contract"), LIST, admin(world), limit, **params)


async def test_contracts_across_tenants_by_each_index(world: Contracting) -> None:
    client, contractor = await world.pair()
    other_contractor = await world.contractor(client, name="Katherine Johnson")
    drafts = [await world.draft(client, contractor) for _ in range(3)]
    sent = await advance(world, client, other_contractor, "sent_for_signature")
    newest_first = [sent["id"], *(d["id"] for d in reversed(drafts))]

    company = await walk(world, 2, companyId=client.company_id)
    assert [c["id"] for c in company] == newest_first
    by_contractor = await walk(world, 2, contractorId=contractor.contractor_id)
    assert [c["id"] for c in by_contractor] == newest_first[1:]
    sent_only = await walk(world, 1, companyId=client.company_id, status="sent_for_signature")
    assert [c["id"] for c in sent_only] == [sent["id"]]
    both = await walk(
        world, 5, companyId=client.company_id, contractorId=other_contractor.contractor_id
    )
    assert [c["id"] for c in both] == [sent["id"]]
    none = await walk(world, 5, contractorId=contractor.contractor_id, status="voided")
    assert none == []

    # By status across every company: newest first, only that status.
    drafted = await walk(world, 7, status="draft")
    assert {c["status"] for c in drafted} == {"draft"}
    assert [c["createdAt"] for c in drafted] == sorted(
        (c["createdAt"] for c in drafted), reverse=True
    )
    assert {d["id"] for d in drafts} <= {c["id"] for c in drafted}
    assert sent["id"] not in {c["id"] for c in drafted}

    # No criteria: every contract once (a scan, in the table's order).
    everything = [c["id"] for c in await walk(world, 10)]
    assert len(everything) == len(set(everything))
    assert set(newest_first) <= set(everything)


async def test_list_cursors_belong_to_their_filter(world: Contracting) -> None:
    client, contractor = await world.pair()
    for _ in range(2):
        await world.draft(client, contractor)
    api = world.fleet.client("contract")
    first = await api.get(
        LIST, params={"companyId": client.company_id, "limit": 1}, headers=admin(world)
    )
    cursor = first.json()["nextCursor"]
    assert cursor is not None
    for params in (
        {"companyId": client.company_id, "status": "draft", "cursor": cursor},
        {"contractorId": contractor.contractor_id, "cursor": cursor},
        {"cursor": cursor},
    ):
        world.problem(
            await api.get(LIST, params=params, headers=admin(world)), 422, "invalid-cursor"
        )


async def test_list_input_is_checked(world: Contracting) -> None:
    api = world.fleet.client("contract")
    for params in (
        {"status": "lost"},
        {"limit": 0},
        {"limit": 101},
        {"companyId": "a b"},
        {"contractorId": "x" * 65},
        {"cursor": "!!"},
    ):
        response = await api.get(LIST, params=params, headers=admin(world))
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] in ("invalid-input", "invalid-cursor")


@pytest.mark.parametrize("route", ["list", "void"])
async def test_only_the_admin_service_may_call(world: Contracting, route: str) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    api = world.fleet.client("contract")

    async def call(headers: dict[str, str]) -> httpx.Response:
        if route == "list":
            return await api.get(LIST, headers=headers)
        return await void(world, contract["id"], headers=headers)

    for service in ("signature", "ledger", "payment", "contract"):
        world.problem(await call(world.fleet.service_bearer(service)), 403, "forbidden")
    world.problem(await call({}), 401, "unauthorized")
    # A user's token — even an admin user's — is not the admin service's credential.
    world.problem(await call(world.fleet.bearer(uuid.uuid4().hex, "admin")), 401, "unauthorized")
    world.problem(await call(client.headers), 401, "unauthorized")
    assert (await read(world, contract["id"]))["status"] == "draft"
