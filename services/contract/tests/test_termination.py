"""Either party terminates an active contract: at once (``atOnce``, or no
notice in its terms) or with the notice its terms give, ended on the date by
the ``contract.termination-due`` timer exactly once; only the parties may,
and a terminated contract stays terminated when payment settles the rest."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_contract.service.endings import TERMINATION_DUE
from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_fleet.teams import PERMISSIONS, CompanyRole
from mindlinks_kit import clock
from mindlinks_kit.timers import Timers, firing_of

if TYPE_CHECKING:
    from conftest import ClientAccount, Contracting, ContractorAccount

FINAL = b"%PDF-1.4\n% signed\n%%EOF\n"
MANAGERS = [r.value for r in PERMISSIONS["contracts.draft"]]
OTHERS = [r.value for r in CompanyRole if r.value not in MANAGERS]


def api(world: Contracting) -> httpx.AsyncClient:
    return world.fleet.client("contract")


def timers(world: Contracting) -> Timers:
    found = world.fleet.runtime("contract").timers
    assert found is not None
    return found


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def active(
    world: Contracting, client: ClientAccount, contractor: ContractorAccount, **overrides: Any
) -> dict[str, Any]:
    return await world.active(client, contractor, **overrides)


async def terminate(
    world: Contracting, contract_id: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await api(world).post(
        f"/v1/contracts/{contract_id}/termination",
        headers=headers,
        json={"reason": "The project was cancelled.", **body},
    )


async def test_a_contract_without_notice_ends_at_once(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor)
    cid = contract["id"]
    before = clock.now()
    response = await terminate(world, cid, client.headers)
    assert response.status_code == 200, response.text
    ended = response.json()
    assert ended["status"] == "terminated"
    assert ended["version"] == contract["version"] + 1
    assert ended["terminationEndsAt"] is None
    assert when(ended["terminatedAt"]) >= before
    assert ended["termination"] == {
        "reason": "The project was cancelled.",
        "byUserId": client.user_id,
        "bySide": "client",
        "requestedAt": ended["terminatedAt"],
    }
    assert ended["history"][-1] == {
        "from": "active",
        "to": "terminated",
        "at": ended["terminatedAt"],
        "actorUserId": client.user_id,
        "actorService": None,
        "reason": "The project was cancelled.",
    }
    assert await world.events("contract.terminated", cid) == [
        {
            "contractId": cid,
            "title": contract["title"],
            "clientCompanyId": client.company_id,
            "clientUserId": contract["clientUserId"],
            "contractorId": contractor.contractor_id,
            "contractorUserId": contractor.user_id,
            "byUserId": client.user_id,
            "bySide": "client",
            "reason": "The project was cancelled.",
            "noticeDays": 0,
            "endedAt": ended["terminatedAt"],
        }
    ]
    assert await world.events("contract.termination-scheduled", cid) == []
    assert await world.contract(cid) == ended
    # The contractor reads it so too.
    read = await api(world).get(f"/v1/contracts/{cid}", headers=contractor.headers)
    assert read.json()["status"] == "terminated"

    # Ended is ended: a second request, and payment settling the rest.
    again = await terminate(world, cid, contractor.headers, atOnce=True)
    world.problem(again, 409, "invalid-transition")
    await world.emit("payment", "payment.item-settled", world.settled(contract, outcome="refunded"))
    assert await world.contract(cid) == ended
    assert len(await world.events("contract.terminated", cid)) == 1


async def test_the_contractor_ends_it_at_once_whatever_the_notice(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor, noticeDays=30)
    response = await terminate(world, contract["id"], contractor.headers, atOnce=True)
    assert response.status_code == 200, response.text
    ended = response.json()
    assert ended["status"] == "terminated"
    assert ended["termination"]["bySide"] == "contractor"
    assert ended["termination"]["byUserId"] == contractor.user_id
    [event] = await world.events("contract.terminated", contract["id"])
    assert (event["bySide"], event["noticeDays"]) == ("contractor", 0)
    assert await timers(world).pending(TERMINATION_DUE, contract["id"]) is None


async def test_a_notice_ends_the_contract_on_its_date_exactly_once(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    manager = await world.member(client, "manager")
    contract = await active(world, client, contractor, noticeDays=10)
    cid = contract["id"]
    before = clock.now()
    response = await terminate(world, cid, manager.headers, reason="Moving in-house.")
    assert response.status_code == 200, response.text
    noticed = response.json()
    ends_at = noticed["terminationEndsAt"]
    assert noticed["status"] == "active"
    assert noticed["terminatedAt"] is None
    assert noticed["termination"]["bySide"] == "client"
    assert noticed["termination"]["byUserId"] == manager.user_id
    assert when(ends_at) - when(noticed["termination"]["requestedAt"]) == timedelta(days=10)
    assert when(ends_at) >= before + timedelta(days=10)
    assert await world.events("contract.termination-scheduled", cid) == [
        {
            "contractId": cid,
            "title": contract["title"],
            "clientCompanyId": client.company_id,
            "clientUserId": contract["clientUserId"],
            "contractorId": contractor.contractor_id,
            "contractorUserId": contractor.user_id,
            "byUserId": manager.user_id,
            "bySide": "client",
            "reason": "Moving in-house.",
            "noticeDays": 10,
            "endsAt": ends_at,
        }
    ]
    # A second notice would move a date already given: refused, for either party.
    for headers in (client.headers, contractor.headers):
        world.problem(await terminate(world, cid, headers), 409, "termination-already-scheduled")

    await world.fleet.deliver()
    fleet_clock.advance("9d")
    await world.fleet.deliver()
    assert await world.contract(cid) == noticed

    fleet_clock.advance("2d")  # past the date
    pending = await timers(world).pending(TERMINATION_DUE, cid)
    assert pending is not None
    assert pending["dueAt"] == ends_at
    firing = firing_of(pending)
    # Delivered twice at once (a schedule and a sweep, say): one ends it.
    outcomes = await asyncio.gather(timers(world).fire(firing), timers(world).fire(firing))
    assert sorted(outcomes) == [False, True]
    await world.fleet.deliver()
    assert not await timers(world).fire(firing)  # a late third delivery

    ended = await world.contract(cid)
    assert ended["status"] == "terminated"
    assert ended["version"] == noticed["version"] + 1
    assert ended["terminatedAt"] == ends_at
    assert ended["terminationEndsAt"] is None
    assert ended["history"][-1]["reason"] == "Moving in-house."
    [event] = await world.events("contract.terminated", cid)
    assert (event["byUserId"], event["noticeDays"], event["endedAt"]) == (
        manager.user_id,
        10,
        ends_at,
    )


async def test_a_running_notice_is_cut_short_by_either_party(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor, noticeDays=30)
    cid = contract["id"]
    noticed = await terminate(world, cid, client.headers)
    assert noticed.json()["status"] == "active"
    assert await timers(world).pending(TERMINATION_DUE, cid) is not None

    response = await terminate(world, cid, contractor.headers, reason="Not waiting.", atOnce=True)
    assert response.status_code == 200, response.text
    ended = response.json()
    assert ended["status"] == "terminated"
    assert ended["termination"]["reason"] == "Not waiting."
    assert ended["termination"]["bySide"] == "contractor"
    assert await timers(world).pending(TERMINATION_DUE, cid) is None

    fleet_clock.advance("31d")
    await world.fleet.deliver()
    assert await world.contract(cid) == ended
    [event] = await world.events("contract.terminated", cid)
    assert (event["reason"], event["noticeDays"]) == ("Not waiting.", 0)


async def test_a_contract_settled_during_its_notice_is_completed(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor, noticeDays=5)
    cid = contract["id"]
    assert (await terminate(world, cid, contractor.headers)).status_code == 200
    await world.emit("payment", "payment.item-settled", world.settled(contract))
    completed = await world.contract(cid)
    assert completed["status"] == "completed"
    assert completed["terminationEndsAt"] is None
    assert await timers(world).pending(TERMINATION_DUE, cid) is None
    fleet_clock.advance("6d")
    await world.fleet.deliver()
    assert await world.contract(cid) == completed
    assert await world.events("contract.terminated", cid) == []


@pytest.mark.parametrize("role", OTHERS)
async def test_a_member_whose_role_does_not_manage_contracts_is_refused(
    world: Contracting, role: str
) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor)
    member = await world.member(client, role)
    world.problem(await terminate(world, contract["id"], member.headers), 403)
    assert await world.contract(contract["id"]) == contract


async def test_only_the_contracts_parties_terminate_it(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor)
    cid = contract["id"]
    other_client, other_contractor = await world.pair()
    refused = {
        "another company's owner": other_client.headers,
        "another contract's contractor": other_contractor.headers,
    }
    for who, headers in refused.items():
        response = await terminate(world, cid, headers, atOnce=True)
        assert response.status_code == 404, who
        world.problem(response, 404, "contract-not-found")
    world.problem(await terminate(world, cid, world.headers("ops", "admin")), 403)
    world.problem(
        await api(world).post(f"/v1/contracts/{cid}/termination", json={"reason": "x"}), 401
    )
    world.problem(await terminate(world, "0" * 32, client.headers), 404, "contract-not-found")
    assert await world.contract(cid) == contract
    assert await world.events("contract.terminated", cid) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": "x" * 1001},
        {"reason": "ok", "atOnce": "yes"},
        {"reason": "ok", "atOnce": 1},
        {"reason": "ok", "noticeDays": 3},
    ],
)
async def test_a_bad_request_is_refused(world: Contracting, body: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.draft(client, contractor)
    response = await api(world).post(
        f"/v1/contracts/{contract['id']}/termination", headers=client.headers, json=body
    )
    world.problem(response, 422)


async def test_only_an_active_contract_is_terminated(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    response = await terminate(world, draft["id"], client.headers, atOnce=True)
    world.problem(response, 409, "invalid-transition")
    assert (await world.contract(draft["id"]))["status"] == "draft"


async def test_cutting_a_notice_short_as_it_runs_out_ends_the_contract_once(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await active(world, client, contractor, noticeDays=3)
    cid = contract["id"]
    assert (await terminate(world, cid, client.headers)).status_code == 200
    fleet_clock.advance("4d")
    pending = await timers(world).pending(TERMINATION_DUE, cid)
    assert pending is not None
    fired, response = await asyncio.gather(
        timers(world).fire(firing_of(pending)),
        terminate(world, cid, contractor.headers, reason="Now, please.", atOnce=True),
    )
    await world.fleet.deliver()
    ended = await world.contract(cid)
    assert ended["status"] == "terminated"
    assert ended["version"] == contract["version"] + 2  # the notice, then the end
    [event] = await world.events("contract.terminated", cid)
    if response.status_code == 200:  # the request won: the timer found nothing to do
        assert (event["reason"], event["noticeDays"]) == ("Now, please.", 0)
    else:  # the notice ran out first: the request finds it ended
        world.problem(response, 409, "invalid-transition")
        assert fired
        assert (event["reason"], event["noticeDays"]) == ("The project was cancelled.", 3)
    assert await timers(world).pending(TERMINATION_DUE, cid) is None
