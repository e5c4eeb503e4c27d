"""A contract sent for signature has a deadline (issue 16): reminders to
whoever must sign next, by the cadence exactly once per firing or by the
client at once; the client extends it; at the deadline it is ``expired``,
once, and a signature racing the deadline either wins or hears
``contract-expired``. Signed, declined or voided, its timers are gone."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_contract.service.deadlines import DEADLINE_DUE, REMINDER_DUE
from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_fleet.teams import PERMISSIONS, CompanyRole
from mindlinks_kit import clock
from mindlinks_kit.dynamo import StaleVersion
from mindlinks_kit.timers import Timers, firing_of

if TYPE_CHECKING:
    from conftest import ClientAccount, Contracting, ContractorAccount

FINAL = b"%PDF-1.4\n% signed\n%%EOF\n"
MANAGERS = [r.value for r in PERMISSIONS["contracts.draft"]]
OTHERS = [r.value for r in CompanyRole if r.value not in MANAGERS]
DAY = timedelta(days=1)


def api(world: Contracting) -> httpx.AsyncClient:
    return world.fleet.client("contract")


def timers(world: Contracting) -> Timers:
    found = world.fleet.runtime("contract").timers
    assert found is not None
    return found


def when(text: str) -> datetime:
    return clock.parse(text)


async def send(
    world: Contracting, client: ClientAccount, contractor: ContractorAccount, **overrides: Any
) -> dict[str, Any]:
    contract = await world.draft(client, contractor, **overrides)
    response = await api(world).post(f"/v1/contracts/{contract['id']}/send", headers=client.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def move(
    world: Contracting, contract: dict[str, Any], to: str, actor: str, company: str | None = None
) -> httpx.Response:
    """The signature service's move, at the contract's version as read."""
    service = world.fleet.service_bearer("signature")
    cid = contract["id"]
    if to == "fully_signed":
        put = await api(world).put(
            f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=service
        )
        assert put.status_code == 200, put.text
        contract = await world.contract(cid)
    body: dict[str, Any] = {"to": to, "expectedVersion": contract["version"], "actorUserId": actor}
    if company is not None:
        body["actorCompanyId"] = company
    return await api(world).post(
        f"/internal/contracts/{cid}/transitions", json=body, headers=service
    )


async def fire(world: Contracting, name: str, contract_id: str) -> list[bool]:
    """The pending timer delivered twice at once (a schedule and a sweep, say)."""
    pending = await timers(world).pending(name, contract_id)
    assert pending is not None, name
    firing = firing_of(pending)
    outcomes = await asyncio.gather(timers(world).fire(firing), timers(world).fire(firing))
    assert not await timers(world).fire(firing)  # a late third delivery
    return sorted(outcomes)


async def remind(world: Contracting, contract_id: str, headers: dict[str, str]) -> httpx.Response:
    return await api(world).post(f"/v1/contracts/{contract_id}/reminders", headers=headers)


async def extend(
    world: Contracting, contract_id: str, headers: dict[str, str], deadline: Any
) -> httpx.Response:
    return await api(world).post(
        f"/v1/contracts/{contract_id}/signing-deadline",
        headers=headers,
        json={"signingDeadline": deadline},
    )


# -- the deadline and the cadence ----------------------------------------------


async def test_sending_starts_the_deadline_and_the_first_reminder(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    assert (draft["signingDays"], draft["reminderAfterDays"], draft["reminderEveryDays"]) == (
        14,
        3,
        2,
    )
    assert draft["signingDeadline"] is None
    before = clock.now()
    contract = await send(world, client, contractor)
    sent_at = when(contract["sentAt"])
    assert sent_at >= before
    assert when(contract["signingDeadline"]) == sent_at + 14 * DAY
    assert when(contract["nextReminderAt"]) == sent_at + 3 * DAY
    assert (contract["remindersSent"], contract["lastReminderAt"]) == (0, None)
    deadline = await timers(world).pending(DEADLINE_DUE, contract["id"])
    reminder = await timers(world).pending(REMINDER_DUE, contract["id"])
    assert deadline is not None
    assert reminder is not None
    assert deadline["dueAt"] == contract["signingDeadline"]
    assert reminder["dueAt"] == contract["nextReminderAt"]


async def test_a_contract_has_signing_terms_of_its_own(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(
        world, client, contractor, signingDays=5, reminderAfterDays=1, reminderEveryDays=3
    )
    sent_at = when(contract["sentAt"])
    assert when(contract["signingDeadline"]) == sent_at + 5 * DAY
    assert when(contract["nextReminderAt"]) == sent_at + 1 * DAY


async def test_a_drafts_signing_terms_change_without_a_new_document(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    response = await api(world).patch(
        f"/v1/contracts/{draft['id']}",
        headers=client.headers,
        json={"version": draft["version"], "signingDays": 30, "reminderEveryDays": 7},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["signingDays"], changed["reminderAfterDays"], changed["reminderEveryDays"]) == (
        30,
        3,
        7,
    )
    assert changed["version"] == draft["version"] + 1
    assert changed["pdfSha256"] == draft["pdfSha256"]  # the PDF does not state them
    sent = await api(world).post(f"/v1/contracts/{draft['id']}/send", headers=client.headers)
    sent_at = when(sent.json()["sentAt"])
    assert when(sent.json()["signingDeadline"]) == sent_at + 30 * DAY
    late = await api(world).patch(
        f"/v1/contracts/{draft['id']}",
        headers=client.headers,
        json={"version": sent.json()["version"], "signingDays": 20},
    )
    world.problem(late, 409, "contract-not-draft")


@pytest.mark.parametrize(
    "terms",
    [
        {"signingDays": 0},
        {"signingDays": 91},
        {"signingDays": "14"},
        {"signingDays": 14.5},
        {"reminderAfterDays": 0},
        {"reminderEveryDays": 31},
        {"reminderEveryDays": None},
    ],
)
async def test_signing_terms_out_of_bounds_are_refused(
    world: Contracting, terms: dict[str, Any]
) -> None:
    client, contractor = await world.shared_pair()
    response = await api(world).post(
        "/v1/contracts", json=world.body(contractor, **terms), headers=client.headers
    )
    world.problem(response, 422)
    draft = await world.draft(client, contractor)
    patched = await api(world).patch(
        f"/v1/contracts/{draft['id']}",
        headers=client.headers,
        json={"version": draft["version"], **terms},
    )
    world.problem(patched, 422)  # out of bounds, or (None) nothing to change


# -- scheduled reminders ----------------------------------------------------------


async def test_a_reminder_reaches_whoever_signs_next_once_per_firing(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    manager = await world.member(client, "manager")
    contract = await send(world, manager, contractor)
    cid = contract["id"]
    sent_at = when(contract["sentAt"])
    fleet_clock.advance("3d")
    assert await fire(world, REMINDER_DUE, cid) == [False, True]
    [first] = await world.events("contract.signing-reminder", cid)
    assert first == {
        "contractId": cid,
        "title": contract["title"],
        "clientCompanyId": client.company_id,
        "clientUserId": contract["clientUserId"],
        "contractorId": contractor.contractor_id,
        "contractorUserId": contractor.user_id,
        "toSide": "client",
        "toUserId": manager.user_id,  # the member who sent it
        "signingDeadline": contract["signingDeadline"],
        "reminderNo": 1,
        "manual": False,
    }
    reminded = await world.contract(cid)
    assert reminded["remindersSent"] == 1
    assert reminded["version"] == contract["version"] + 1
    assert when(reminded["nextReminderAt"]) == sent_at + 5 * DAY
    pending = await timers(world).pending(REMINDER_DUE, cid)
    assert pending is not None
    assert pending["dueAt"] == reminded["nextReminderAt"]

    # The client's side signs: the next one goes to the contractor.
    signed = await move(world, reminded, "client_signed", manager.user_id, client.company_id)
    assert signed.status_code == 200, signed.text
    fleet_clock.advance("2d")
    assert await fire(world, REMINDER_DUE, cid) == [False, True]
    events = await world.events("contract.signing-reminder", cid)
    assert sorted((e["reminderNo"], e["toSide"], e["toUserId"]) for e in events) == [
        (1, "client", manager.user_id),
        (2, "contractor", contractor.user_id),
    ]


async def test_no_reminder_at_or_after_the_deadline(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=4)  # reminders: day 3 only
    cid = contract["id"]
    fleet_clock.advance("3d")
    assert await fire(world, REMINDER_DUE, cid) == [False, True]
    reminded = await world.contract(cid)
    assert reminded["nextReminderAt"] is None
    assert await timers(world).pending(REMINDER_DUE, cid) is None


async def test_a_reminder_delivered_past_the_deadline_says_nothing(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=4)
    cid = contract["id"]
    fleet_clock.advance("5d")
    assert await fire(world, REMINDER_DUE, cid) == [False, True]
    assert await world.events("contract.signing-reminder", cid) == []


# -- the client's reminder -----------------------------------------------------------


async def test_the_client_reminds_at_once_but_not_twice_a_day(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    cid = contract["id"]
    signed = await move(world, contract, "client_signed", client.user_id, client.company_id)
    assert signed.status_code == 200, signed.text
    before = clock.now()
    response = await remind(world, cid, client.headers)
    assert response.status_code == 202, response.text
    reminder = response.json()
    assert when(reminder.pop("sentAt")) >= before
    assert reminder == {
        "contractId": cid,
        "reminderNo": 1,
        "toSide": "contractor",
        "toUserId": contractor.user_id,
        "signingDeadline": contract["signingDeadline"],
        "manual": True,
    }
    [event] = await world.events("contract.signing-reminder", cid)
    assert (event["manual"], event["reminderNo"]) == (True, 1)
    after = await world.contract(cid)
    assert after["nextReminderAt"] == contract["nextReminderAt"]  # the cadence goes on

    world.problem(await remind(world, cid, client.headers), 409, "reminder-too-soon")
    fleet_clock.advance("1d")
    again = await remind(world, cid, client.headers)
    assert again.status_code == 202, again.text
    assert again.json()["reminderNo"] == 2


async def test_a_reminder_repeated_with_its_idempotency_key_is_the_same_one(
    world: Contracting,
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    cid = contract["id"]
    keyed = {**client.headers, "Idempotency-Key": f"remind-{cid}"}
    first = await remind(world, cid, keyed)
    assert first.status_code == 202, first.text
    again = await remind(world, cid, keyed)  # a retry after a lost answer
    assert again.status_code == 202, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(await world.events("contract.signing-reminder", cid)) == 1
    world.problem(await remind(world, cid, client.headers), 409, "reminder-too-soon")


async def test_a_scheduled_reminder_right_after_the_clients_is_skipped(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    cid = contract["id"]
    fleet_clock.advance(3 * 86400 - 3600)  # an hour before the first scheduled one
    assert (await remind(world, cid, client.headers)).status_code == 202
    fleet_clock.advance("1h")
    assert await fire(world, REMINDER_DUE, cid) == [False, True]
    [only] = await world.events("contract.signing-reminder", cid)
    assert only["manual"] is True
    skipped = await world.contract(cid)
    assert when(skipped["nextReminderAt"]) == when(contract["sentAt"]) + 5 * DAY
    assert await timers(world).pending(REMINDER_DUE, cid) is not None


@pytest.mark.parametrize("role", OTHERS)
async def test_a_member_whose_role_does_not_send_contracts_cannot_remind_or_extend(
    world: Contracting, role: str
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    member = await world.member(client, role)
    world.problem(await remind(world, contract["id"], member.headers), 403)
    later = clock.iso(when(contract["signingDeadline"]) + DAY)
    world.problem(await extend(world, contract["id"], member.headers, later), 403)
    assert await world.contract(contract["id"]) == contract


async def test_only_the_client_company_reminds_or_extends(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    cid = contract["id"]
    later = clock.iso(when(contract["signingDeadline"]) + DAY)
    other_client, _ = await world.pair()
    for response in (
        await remind(world, cid, other_client.headers),
        await extend(world, cid, other_client.headers, later),
        await remind(world, "0" * 32, client.headers),
        await extend(world, "0" * 32, client.headers, later),
    ):
        world.problem(response, 404, "contract-not-found")
    for headers in (contractor.headers, world.headers("ops", "admin")):
        world.problem(await remind(world, cid, headers), 403)
        world.problem(await extend(world, cid, headers, later), 403)
    world.problem(await api(world).post(f"/v1/contracts/{cid}/reminders"), 401)
    assert await world.contract(cid) == contract
    assert await world.events("contract.signing-reminder", cid) == []


async def test_only_a_contract_awaiting_a_signature_has_a_deadline(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    world.problem(
        await remind(world, draft["id"], client.headers), 409, "contract-not-awaiting-signature"
    )
    soon = clock.iso(clock.now() + DAY)
    world.problem(
        await extend(world, draft["id"], client.headers, soon),
        409,
        "contract-not-awaiting-signature",
    )


# -- extending ----------------------------------------------------------------------


async def test_the_client_extends_the_deadline_and_the_signer_is_told(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=4)
    cid = contract["id"]
    signed = await move(world, contract, "client_signed", client.user_id, client.company_id)
    assert signed.status_code == 200, signed.text
    fleet_clock.advance("3d")
    assert await fire(world, REMINDER_DUE, cid) == [False, True]
    assert await timers(world).pending(REMINDER_DUE, cid) is None  # the cadence ran out
    old = await timers(world).pending(DEADLINE_DUE, cid)
    assert old is not None

    later = when(contract["signingDeadline"]) + 6 * DAY
    response = await extend(world, cid, client.headers, clock.iso(later))
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
    moved = await timers(world).pending(DEADLINE_DUE, cid)
    assert moved is not None
    assert moved["dueAt"] == extended["signingDeadline"]
    # The old deadline's firing (delivered anyway) is stale: nothing expires.
    assert not await timers(world).fire(firing_of(old))
    fleet_clock.advance("2d")  # past the old deadline
    await world.fleet.deliver()
    assert (await world.contract(cid))["status"] == "client_signed"


@pytest.mark.parametrize("case", ["the same", "earlier", "more than 90 days away"])
async def test_an_extension_must_be_later_and_bounded(world: Contracting, case: str) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    current = when(contract["signingDeadline"])
    target = {
        "the same": current,
        "earlier": current - DAY,
        "more than 90 days away": clock.now() + timedelta(days=91),
    }[case]
    response = await extend(world, contract["id"], client.headers, clock.iso(target))
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
    contract = await send(world, client, contractor)
    response = await api(world).post(
        f"/v1/contracts/{contract['id']}/signing-deadline", headers=client.headers, json=body
    )
    world.problem(response, 422)


# -- expiry -------------------------------------------------------------------------


async def test_at_the_deadline_the_contract_expires_once(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor)
    cid = contract["id"]
    fleet_clock.advance("14d")
    fleet_clock.advance(1)
    assert await fire(world, DEADLINE_DUE, cid) == [False, True]
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
    assert await timers(world).pending(REMINDER_DUE, cid) is None
    [event] = await world.events("contract.expired", cid)
    assert (event["signingDeadline"], event["expiredAt"], event["waitingFor"]) == (
        contract["signingDeadline"],
        contract["signingDeadline"],
        "client",
    )
    # Too late for anything of the deadline's.
    world.problem(await remind(world, cid, client.headers), 409, "contract-expired")
    later = clock.iso(clock.now() + DAY)
    world.problem(await extend(world, cid, client.headers, later), 409, "contract-expired")
    late = await move(world, contract, "client_signed", client.user_id, client.company_id)
    world.problem(late, 409, "contract-expired")
    declined = await move(world, expired, "declined", client.user_id, client.company_id)
    world.problem(declined, 409, "contract-expired")


async def test_a_deadline_that_passed_before_its_timer_fired_is_passed(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=1)
    fleet_clock.advance("1d")
    response = await remind(world, contract["id"], client.headers)
    world.problem(response, 409, "contract-expired")
    later = clock.iso(clock.now() + DAY)
    world.problem(
        await extend(world, contract["id"], client.headers, later), 409, "contract-expired"
    )


async def test_a_signature_that_loses_to_the_deadline_hears_it_expired(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    """The signature service read the contract before the deadline; the expiry
    commits first; its move at the version it read is refused as expired."""
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=2)
    cid = contract["id"]
    signed = await move(world, contract, "client_signed", client.user_id, client.company_id)
    assert signed.status_code == 200, signed.text
    read_by_signature = signed.json()
    fleet_clock.advance("2d")
    fleet_clock.advance(1)
    assert await fire(world, DEADLINE_DUE, cid) == [False, True]
    # The contractor's signature stores the final document, then moves the contract.
    service = world.fleet.service_bearer("signature")
    put = await api(world).put(
        f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=service
    )
    world.problem(put, 409, "contract-expired")
    late = await api(world).post(
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
    handlers = timers(world).handlers
    expiry = handlers[DEADLINE_DUE]

    async def racing(fired: Any, uow: Any) -> None:
        await expiry(fired, uow)
        await signature()

    monkeypatch.setitem(handlers, DEADLINE_DUE, racing)


async def test_the_last_signature_that_beats_the_deadline_wins(
    world: Contracting, fleet_clock: FleetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=2)
    cid = contract["id"]
    signed = await move(world, contract, "client_signed", client.user_id, client.company_id)
    assert signed.status_code == 200, signed.text
    answers: list[httpx.Response] = []

    async def contractor_signs() -> None:
        answers.append(await move(world, signed.json(), "fully_signed", contractor.user_id))

    commit_between_read_and_write(world, monkeypatch, contractor_signs)
    fleet_clock.advance("2d")
    fleet_clock.advance(1)
    pending = await timers(world).pending(DEADLINE_DUE, cid)
    assert pending is not None
    # The signature cancelled the timer and moved the version: the expiry commits nothing.
    assert not await timers(world).fire(firing_of(pending))
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert not await timers(world).fire(firing_of(pending))  # redelivered: still nothing
    after = await world.contract(cid)
    assert after["status"] == "fully_signed"
    assert await world.events("contract.expired", cid) == []


async def test_the_clients_signature_beating_the_deadline_still_leaves_it_expired(
    world: Contracting, fleet_clock: FleetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's signature wins the race, but the contractor's is still
    missing past the deadline: the firing, delivered again, expires it."""
    client, contractor = await world.shared_pair()
    contract = await send(world, client, contractor, signingDays=2)
    cid = contract["id"]
    answers: list[httpx.Response] = []

    async def client_signs() -> None:
        answers.append(
            await move(world, contract, "client_signed", client.user_id, client.company_id)
        )

    commit_between_read_and_write(world, monkeypatch, client_signs)
    fleet_clock.advance("2d")
    fleet_clock.advance(1)
    pending = await timers(world).pending(DEADLINE_DUE, cid)
    assert pending is not None
    with pytest.raises(StaleVersion):  # the consumer's retry delivers it again
        await timers(world).fire(firing_of(pending))
    [answer] = answers
    assert answer.status_code == 200, answer.text
    monkeypatch.undo()
    assert await timers(world).fire(firing_of(pending))
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
    contract = await send(world, client, contractor)
    cid = contract["id"]
    reminder = await timers(world).pending(REMINDER_DUE, cid)
    deadline = await timers(world).pending(DEADLINE_DUE, cid)
    assert reminder is not None
    assert deadline is not None
    if ending == "voided":
        response = await api(world).post(
            f"/v1/contracts/{cid}/void", headers=client.headers, json={"reason": "Not needed."}
        )
    else:
        signed = await move(world, contract, "client_signed", client.user_id, client.company_id)
        assert signed.status_code == 200, signed.text
        actor = contractor.user_id
        response = await move(world, signed.json(), ending, actor)
    assert response.status_code == 200, response.text
    assert await timers(world).pending(REMINDER_DUE, cid) is None
    assert await timers(world).pending(DEADLINE_DUE, cid) is None
    ended = await world.contract(cid)
    fleet_clock.advance("15d")
    # Firings that raced the cancel find nothing to do.
    assert not await timers(world).fire(firing_of(reminder))
    assert not await timers(world).fire(firing_of(deadline))
    await world.fleet.deliver()
    assert await world.contract(cid) == ended
    assert await world.events("contract.signing-reminder", cid) == []
    assert await world.events("contract.expired", cid) == []
