"""A contract sent for signature has a deadline (issue 16): sending starts
it and the reminders' cadence; reminders reach whoever must sign next, by the
cadence exactly once per firing or by the client at once (not twice a day);
only the client company's members who send contracts remind. Extension,
expiry and the race with a signature: ``test_deadline_expiry``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_contract.service.deadlines import DEADLINE_DUE, REMINDER_DUE
from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_fleet.teams import PERMISSIONS, CompanyRole
from mindlinks_kit import clock

if TYPE_CHECKING:
    from conftest import Contracting

MANAGERS = [r.value for r in PERMISSIONS["contracts.draft"]]
OTHERS = [r.value for r in CompanyRole if r.value not in MANAGERS]
DAY = timedelta(days=1)


def when(text: str) -> datetime:
    return clock.parse(text)


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
    contract = await world.send_draft(client, contractor)
    sent_at = when(contract["sentAt"])
    assert sent_at >= before
    assert when(contract["signingDeadline"]) == sent_at + 14 * DAY
    assert when(contract["nextReminderAt"]) == sent_at + 3 * DAY
    assert (contract["remindersSent"], contract["lastReminderAt"]) == (0, None)
    deadline = await world.contract_timers().pending(DEADLINE_DUE, contract["id"])
    reminder = await world.contract_timers().pending(REMINDER_DUE, contract["id"])
    assert deadline is not None
    assert reminder is not None
    assert deadline["dueAt"] == contract["signingDeadline"]
    assert reminder["dueAt"] == contract["nextReminderAt"]


async def test_a_contract_has_signing_terms_of_its_own(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(
        client, contractor, signingDays=5, reminderAfterDays=1, reminderEveryDays=3
    )
    sent_at = when(contract["sentAt"])
    assert when(contract["signingDeadline"]) == sent_at + 5 * DAY
    assert when(contract["nextReminderAt"]) == sent_at + 1 * DAY


async def test_a_drafts_signing_terms_change_without_a_new_document(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    response = await world.contract_api().patch(
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
    sent = await world.contract_api().post(
        f"/v1/contracts/{draft['id']}/send", headers=client.headers
    )
    sent_at = when(sent.json()["sentAt"])
    assert when(sent.json()["signingDeadline"]) == sent_at + 30 * DAY
    late = await world.contract_api().patch(
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
    response = await world.contract_api().post(
        "/v1/contracts", json=world.body(contractor, **terms), headers=client.headers
    )
    world.problem(response, 422)
    draft = await world.draft(client, contractor)
    patched = await world.contract_api().patch(
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
    contract = await world.send_draft(manager, contractor)
    cid = contract["id"]
    sent_at = when(contract["sentAt"])
    fleet_clock.advance("3d")
    assert await world.fire_twice(REMINDER_DUE, cid) == [False, True]
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
    pending = await world.contract_timers().pending(REMINDER_DUE, cid)
    assert pending is not None
    assert pending["dueAt"] == reminded["nextReminderAt"]

    # The client's side signs: the next one goes to the contractor.
    signed = await world.signature_move(
        reminded, "client_signed", manager.user_id, client.company_id
    )
    assert signed.status_code == 200, signed.text
    fleet_clock.advance("2d")
    assert await world.fire_twice(REMINDER_DUE, cid) == [False, True]
    events = await world.events("contract.signing-reminder", cid)
    assert sorted((e["reminderNo"], e["toSide"], e["toUserId"]) for e in events) == [
        (1, "client", manager.user_id),
        (2, "contractor", contractor.user_id),
    ]


async def test_no_reminder_at_or_after_the_deadline(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=4)  # reminders: day 3 only
    cid = contract["id"]
    fleet_clock.advance("3d")
    assert await world.fire_twice(REMINDER_DUE, cid) == [False, True]
    reminded = await world.contract(cid)
    assert reminded["nextReminderAt"] is None
    assert await world.contract_timers().pending(REMINDER_DUE, cid) is None


async def test_a_reminder_delivered_past_the_deadline_says_nothing(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor, signingDays=4)
    cid = contract["id"]
    fleet_clock.advance("5d")
    assert await world.fire_twice(REMINDER_DUE, cid) == [False, True]
    assert await world.events("contract.signing-reminder", cid) == []


# -- the client's reminder -----------------------------------------------------------


async def test_the_client_reminds_at_once_but_not_twice_a_day(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    cid = contract["id"]
    signed = await world.signature_move(
        contract, "client_signed", client.user_id, client.company_id
    )
    assert signed.status_code == 200, signed.text
    before = clock.now()
    response = await world.remind(cid, client.headers)
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

    world.problem(await world.remind(cid, client.headers), 409, "reminder-too-soon")
    fleet_clock.advance("1d")
    again = await world.remind(cid, client.headers)
    assert again.status_code == 202, again.text
    assert again.json()["reminderNo"] == 2


async def test_a_reminder_repeated_with_its_idempotency_key_is_the_same_one(
    world: Contracting,
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    cid = contract["id"]
    keyed = {**client.headers, "Idempotency-Key": f"remind-{cid}"}
    first = await world.remind(cid, keyed)
    assert first.status_code == 202, first.text
    again = await world.remind(cid, keyed)  # a retry after a lost answer
    assert again.status_code == 202, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(await world.events("contract.signing-reminder", cid)) == 1
    world.problem(await world.remind(cid, client.headers), 409, "reminder-too-soon")


async def test_a_scheduled_reminder_right_after_the_clients_is_skipped(
    world: Contracting, fleet_clock: FleetClock
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    cid = contract["id"]
    fleet_clock.advance(3 * 86400 - 3600)  # an hour before the first scheduled one
    assert (await world.remind(cid, client.headers)).status_code == 202
    fleet_clock.advance("1h")
    assert await world.fire_twice(REMINDER_DUE, cid) == [False, True]
    [only] = await world.events("contract.signing-reminder", cid)
    assert only["manual"] is True
    skipped = await world.contract(cid)
    assert when(skipped["nextReminderAt"]) == when(contract["sentAt"]) + 5 * DAY
    assert await world.contract_timers().pending(REMINDER_DUE, cid) is not None


@pytest.mark.parametrize("role", OTHERS)
async def test_a_member_whose_role_does_not_send_contracts_cannot_remind_or_extend(
    world: Contracting, role: str
) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    member = await world.member(client, role)
    world.problem(await world.remind(contract["id"], member.headers), 403)
    later = clock.iso(when(contract["signingDeadline"]) + DAY)
    world.problem(await world.extend_deadline(contract["id"], member.headers, later), 403)
    assert await world.contract(contract["id"]) == contract


async def test_only_the_client_company_reminds_or_extends(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    contract = await world.send_draft(client, contractor)
    cid = contract["id"]
    later = clock.iso(when(contract["signingDeadline"]) + DAY)
    other_client, _ = await world.pair()
    for response in (
        await world.remind(cid, other_client.headers),
        await world.extend_deadline(cid, other_client.headers, later),
        await world.remind("0" * 32, client.headers),
        await world.extend_deadline("0" * 32, client.headers, later),
    ):
        world.problem(response, 404, "contract-not-found")
    for headers in (contractor.headers, world.headers("ops", "admin")):
        world.problem(await world.remind(cid, headers), 403)
        world.problem(await world.extend_deadline(cid, headers, later), 403)
    world.problem(await world.contract_api().post(f"/v1/contracts/{cid}/reminders"), 401)
    assert await world.contract(cid) == contract
    assert await world.events("contract.signing-reminder", cid) == []


async def test_only_a_contract_awaiting_a_signature_has_a_deadline(world: Contracting) -> None:
    client, contractor = await world.shared_pair()
    draft = await world.draft(client, contractor)
    world.problem(
        await world.remind(draft["id"], client.headers), 409, "contract-not-awaiting-signature"
    )
    soon = clock.iso(clock.now() + DAY)
    world.problem(
        await world.extend_deadline(draft["id"], client.headers, soon),
        409,
        "contract-not-awaiting-signature",
    )
