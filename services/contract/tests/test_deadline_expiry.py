"""The signing deadline moved and passed (issue 16): the client extends it
before it passes, the signer is told; at the deadline the contract is
``expired`` once, both parties told; a signature racing the deadline either
wins or hears ``contract-expired``; signed, declined or voided, its timers
are gone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_contract.service.deadlines import DEADLINE_DUE, REMINDER_DUE
from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_kit import clock
from mindlinks_kit.dynamo import StaleVersion
from mindlinks_kit.timers import firing_of

if TYPE_CHECKING:
    from conftest import Contracting

FINAL = b"%PDF-1.4\n% signed\n%%EOF\n"
DAY = timedelta(days=1)


def when(text: str) -> datetime:
    return clock.parse(text)


# -- extending ----------------------------------------------------------------------


async def test_the_client_extends_the_deadline_and_the_signer_is_told(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=4)
    cid = contract["id"]
    signed = await world.signature_move(
        contract, "client_signed", client.user_id, client.company_id
    )
    assert signed.status_code == 200, signed.text
    fleet_clock.advance("3d")
    assert await world.fire_twice(REMINDER_DUE, cid) == [False, True]
    assert await world.contract_timers().pending(REMINDER_DUE, cid) is None  # the cadence ran out
    old = await world.contract_timers().pending(DEADLINE_DUE, cid)
    assert old is not None

    later = when(contract["signingDeadline"]) + 6 * DAY
    response = await world.extend_deadline(cid, client.headers, clock.iso(later))
    assert response.status_code == 200, response.text
    extended = response.json()
    assert extended["status"] == "client_signed"
    assert when(extended["signingDeadline"]) == later
    sent_at = when(contract["sentAt"])
    assert when(extended["nextReminderAt"]) == sent_at + 5 * DAY  # the cadence goes on
    [event] = await world.events("contract.signing-deadline-extended", cid)
    assert event == {
        "contractId": cid,
        "title": contract["title"],
        "clientCompanyId": client.company_id,
        "clientUserId": contract["clientUserId"],
        "contractorId": contractor.contractor_id,
        "contractorUserId": contractor.user_id,
        "signingDeadline": extended["signingDeadline"],
        "previousDeadline": contract["signingDeadline"],
        "byUserId": client.user_id,
        "toSide": "contractor",
        "toUserId": contractor.user_id,
    }
    moved = await world.contract_timers().pending(DEADLINE_DUE, cid)
    assert moved is not None
    assert moved["dueAt"] == extended["signingDeadline"]
    # The old deadline's firing (delivered anyway) is stale: nothing expires.
    assert not await world.contract_timers().fire(firing_of(old))
    fleet_clock.advance("2d")  # past the old deadline
    await world.fleet.deliver()
    assert (await world.contract(cid))["status"] == "client_signed"


@pytest.mark.parametrize("case", ["the same", "earlier", "more than 90 days away"])
async def test_an_extension_must_be_later_and_bounded(world: Contracting, case: str) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    current = when(contract["signingDeadline"])
    target = {
        "the same": current,
        "earlier": current - DAY,
        "more than 90 days away": clock.now() + timedelta(days=91),
    }[case]
    response = await world.extend_deadline(contract["id"], client.headers, clock.iso(target))
    world.problem(response, 422, "invalid-signing-deadline")
    assert await world.contract(contract["id"]) == contract


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"signingDeadline": "next week"},
        {"signingDeadline": "2030-01-01"},
        {"signingDeadline": "2030-01-01T10:00:00"},  # no time zone
        {"signingDeadline": 1893456000},
        {"signingDeadline": "2030-01-01T10:00:00Z", "version": 2},
    ],
)
async def test_a_malformed_extension_is_refused(world: Contracting, body: dict[str, Any]) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    response = await world.contract_api().post(
        f"/v1/contracts/{contract['id']}/signing-deadline", headers=client.headers, json=body
    )
    world.problem(response, 422)


# -- expiry -------------------------------------------------------------------------


async def test_at_the_deadline_the_contract_expires_once(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    cid = contract["id"]
    fleet_clock.advance("14d")
    fleet_clock.advance(1)
    assert await world.fire_twice(DEADLINE_DUE, cid) == [False, True]
    expired = await world.contract(cid)
    assert expired["status"] == "expired"
    assert expired["expiredAt"] == contract["signingDeadline"]
    assert expired["nextReminderAt"] is None
    assert expired["history"][-1] == {
        "from": "sent_for_signature",
        "to": "expired",
        "at": contract["signingDeadline"],
        "actorUserId": None,
        "actorService": None,
        "reason": "The signing deadline passed",
    }
    assert await world.contract_timers().pending(REMINDER_DUE, cid) is None
    [event] = await world.events("contract.expired", cid)
    assert (event["signingDeadline"], event["expiredAt"], event["waitingFor"]) == (
        contract["signingDeadline"],
        contract["signingDeadline"],
        "client",
    )
    # Too late for anything of the deadline's.
    world.problem(await world.remind(cid, client.headers), 409, "contract-expired")
    later = clock.iso(clock.now() + DAY)
    world.problem(await world.extend_deadline(cid, client.headers, later), 409, "contract-expired")
    late = await world.signature_move(contract, "client_signed", client.user_id, client.company_id)
    world.problem(late, 409, "contract-expired")
    declined = await world.signature_move(expired, "declined", client.user_id, client.company_id)
    world.problem(declined, 409, "contract-expired")


async def test_a_deadline_that_passed_before_its_timer_fired_is_passed(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=1)
    fleet_clock.advance("1d")
    response = await world.remind(contract["id"], client.headers)
    world.problem(response, 409, "contract-expired")
    later = clock.iso(clock.now() + DAY)
    world.problem(
        await world.extend_deadline(contract["id"], client.headers, later), 409, "contract-expired"
    )


async def test_a_signature_that_loses_to_the_deadline_hears_it_expired(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    """The signature service read the contract before the deadline; the expiry
    commits first; its move at the version it read is refused as expired."""
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=2)
    cid = contract["id"]
    signed = await world.signature_move(
        contract, "client_signed", client.user_id, client.company_id
    )
    assert signed.status_code == 200, signed.text
    read_by_signature = signed.json()
    fleet_clock.advance("2d")
    fleet_clock.advance(1)
    assert await world.fire_twice(DEADLINE_DUE, cid) == [False, True]
    # The contractor's signature stores the final document, then moves the contract.
    service = world.fleet.service_bearer("signature")
    put = await world.contract_api().put(
        f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=service
    )
    world.problem(put, 409, "contract-expired")
    late = await world.contract_api().post(
        f"/internal/contracts/{cid}/transitions",
        json={
            "to": "fully_signed",
            "expectedVersion": read_by_signature["version"],
            "actorUserId": contractor.user_id,
        },
        headers=service,
    )
    world.problem(late, 409, "contract-expired")
    expired = await world.contract(cid)
    assert expired["status"] == "expired"
    [event] = await world.events("contract.expired", cid)
    assert event["waitingFor"] == "contractor"


def commit_between_read_and_write(
    world: Contracting, monkeypatch: pytest.MonkeyPatch, signature: Any
) -> None:
    """The deadline's handler reads and stages the expiry; ``signature``
    commits before the firing's transaction does."""
    handlers = world.contract_timers().handlers
    expiry = handlers[DEADLINE_DUE]

    async def racing(fired: Any, uow: Any) -> None:
        await expiry(fired, uow)
        await signature()

    monkeypatch.setitem(handlers, DEADLINE_DUE, racing)


async def test_the_last_signature_that_beats_the_deadline_wins(
    world: Contracting, fleet_clock: FleetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=2)
    cid = contract["id"]
    signed = await world.signature_move(
        contract, "client_signed", client.user_id, client.company_id
    )
    assert signed.status_code == 200, signed.text
    answers: list[httpx.Response] = []

    async def contractor_signs() -> None:
        answers.append(
            await world.signature_move(signed.json(), "fully_signed", contractor.user_id)
        )

    commit_between_read_and_write(world, monkeypatch, contractor_signs)
    fleet_clock.advance("2d")
    fleet_clock.advance(1)
    pending = await world.contract_timers().pending(DEADLINE_DUE, cid)
    assert pending is not None
    # The signature cancelled the timer and moved the version: the expiry commits nothing.
    assert not await world.contract_timers().fire(firing_of(pending))
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert not await world.contract_timers().fire(firing_of(pending))  # redelivered: still nothing
    after = await world.contract(cid)
    assert after["status"] == "fully_signed"
    assert await world.events("contract.expired", cid) == []


async def test_the_clients_signature_beating_the_deadline_still_leaves_it_expired(
    world: Contracting, fleet_clock: FleetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's signature wins the race, but the contractor's is still
    missing past the deadline: the firing, delivered again, expires it."""
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=2)
    cid = contract["id"]
    answers: list[httpx.Response] = []

    async def client_signs() -> None:
        answers.append(
            await world.signature_move(contract, "client_signed", client.user_id, client.company_id)
        )

    commit_between_read_and_write(world, monkeypatch, client_signs)
    fleet_clock.advance("2d")
    fleet_clock.advance(1)
    pending = await world.contract_timers().pending(DEADLINE_DUE, cid)
    assert pending is not None
    with pytest.raises(StaleVersion):  # the consumer's retry delivers it again
        await world.contract_timers().fire(firing_of(pending))
    [answer] = answers
    assert answer.status_code == 200, answer.text
    monkeypatch.undo()
    assert await world.contract_timers().fire(firing_of(pending))
    expired = await world.contract(cid)
    assert expired["status"] == "expired"
    assert expired["history"][-2]["to"] == "client_signed"
    [event] = await world.events("contract.expired", cid)
    assert event["waitingFor"] == "contractor"


# -- timers of contracts that no longer wait ---------------------------------------------


@pytest.mark.parametrize("ending", ["fully_signed", "declined", "voided"])
async def test_a_contract_that_no_longer_waits_has_no_timers(
    world: Contracting, fleet_clock: FleetClock, ending: str
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    cid = contract["id"]
    reminder = await world.contract_timers().pending(REMINDER_DUE, cid)
    deadline = await world.contract_timers().pending(DEADLINE_DUE, cid)
    assert reminder is not None
    assert deadline is not None
    if ending == "voided":
        response = await world.contract_api().post(
            f"/v1/contracts/{cid}/void", headers=client.headers, json={"reason": "Not needed."}
        )
    else:
        signed = await world.signature_move(
            contract, "client_signed", client.user_id, client.company_id
        )
        assert signed.status_code == 200, signed.text
        actor = contractor.user_id
        response = await world.signature_move(signed.json(), ending, actor)
    assert response.status_code == 200, response.text
    assert await world.contract_timers().pending(REMINDER_DUE, cid) is None
    assert await world.contract_timers().pending(DEADLINE_DUE, cid) is None
    ended = await world.contract(cid)
    fleet_clock.advance("15d")
    # Firings that raced the cancel find nothing to do.
    assert not await world.contract_timers().fire(firing_of(reminder))
    assert not await world.contract_timers().fire(firing_of(deadline))
    await world.fleet.deliver()
    assert await world.contract(cid) == ended
    assert await world.events("contract.signing-reminder", cid) == []
    assert await world.events("contract.expired", cid) == []
