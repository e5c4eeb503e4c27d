"""The admin service's internal routes: transactions and escrow across
tenants, stuck charges, flags. Only the admin service may call them.

Stuck charges are made by writing the service's own items with an older
``createdAt`` (and, for ``processing``, another status) through its store."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_payment.domain import ChargeStatus

if TYPE_CHECKING:
    from conftest import Contract, Payments

TRANSACTIONS = "/internal/payments/transactions"
ESCROW = "/internal/payments/escrow"


@pytest.fixture
def admin(fleet: Running) -> dict[str, str]:
    return fleet.service_bearer("admin")


async def charges(payments: Payments, contract: Contract) -> list[str]:
    """The contract's charge ids, in schedule order."""
    items = (await payments.schedule(contract, contract.client))["items"]
    return [i["transactionId"] for i in items]


async def rewrite(
    payments: Payments, transaction_id: str, at: datetime, status: ChargeStatus | None = None
) -> None:
    """Move a charge back in time (and to ``status``) through the service's store."""
    store = payments.fleet.deps("payment").store
    charge = await store.transaction(transaction_id)
    created = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    uow = payments.fleet.runtime("payment").uow()
    store.replace_transaction(
        uow, replace(charge, created_at=created, status=status or charge.status), charge.version
    )
    await uow.commit()


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


async def pages(
    payments: Payments, path: str, headers: dict[str, str], params: dict[str, Any], count: int
) -> list[list[dict[str, Any]]]:
    """Up to ``count`` pages, following the cursor."""
    found: list[list[dict[str, Any]]] = []
    cursor = None
    for _ in range(count):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await payments.client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        found.append(response.json()["items"])
        cursor = response.json()["nextCursor"]
        if cursor is None:
            break
    return found


async def test_a_contracts_transactions_page_newest_first(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100, 200, 300))
    await payments.fund(contract, 0)
    listed = await pages(payments, TRANSACTIONS, admin, {"contractId": contract.id, "limit": 2}, 5)
    assert [len(p) for p in listed] == [2, 1]
    items = [t for page in listed for t in page]
    assert [t["createdAt"] for t in items] == sorted((t["createdAt"] for t in items), reverse=True)
    assert sorted(t["amountMinor"] for t in items) == [100, 200, 300]
    funded = next(t for t in items if t["amountMinor"] == 100)
    assert funded["status"] == "succeeded"
    for item in items:
        assert item["contractId"] == contract.id
        assert item["flag"] is None
        assert "clientSecret" not in item
        assert item["parties"] == {
            "clientCompanyId": contract.client_company_id,
            "clientUserId": contract.client_user_id,
            "contractorId": contract.contractor_id,
            "contractorUserId": contract.contractor_user_id,
        }

    unpaid = await pages(
        payments,
        TRANSACTIONS,
        admin,
        {"contractId": contract.id, "status": "requires_payment", "limit": 1},
        5,
    )
    assert [len(p) for p in unpaid] == [1, 1]
    assert sorted(t["amountMinor"] for page in unpaid for t in page) == [200, 300]


async def test_by_status_newest_first_and_all_statuses_merged(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100, 200, 300))
    await payments.fund(contract, 0)
    await payments.fund(contract, 1)
    ids = await charges(payments, contract)

    succeeded = await payments.client.get(
        TRANSACTIONS, params={"status": "succeeded", "limit": 1}, headers=admin
    )
    assert [t["id"] for t in succeeded.json()["items"]] == [ids[1]]
    assert succeeded.json()["nextCursor"]  # at least ids[0] is older

    # Every status at once, newest first: the three charges just made lead,
    # across two statuses and pages.
    listed = await pages(payments, TRANSACTIONS, admin, {"limit": 2}, 3)
    items = [t for page in listed for t in page]
    assert [t["id"] for t in items[:3]] == list(reversed(ids))
    assert [t["status"] for t in items[:3]] == ["requires_payment", "succeeded", "succeeded"]
    assert [t["createdAt"] for t in items] == sorted((t["createdAt"] for t in items), reverse=True)
    assert len({t["id"] for t in items}) == len(items)


async def test_stuck_charges_of_a_contract_oldest_first(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((1, 2, 3, 4, 5))
    await payments.fund(contract, 2)
    failed = await payments.client.post(
        "/v1/payments/dev/intents/"
        + (await payments.schedule(contract, contract.client))["items"][3]["paymentIntentId"]
        + "/fail"
    )
    assert failed.status_code == 202, failed.text
    ids = await charges(payments, contract)
    await rewrite(payments, ids[0], minutes_ago(90))
    await rewrite(payments, ids[1], minutes_ago(30))
    await rewrite(payments, ids[2], minutes_ago(300))  # succeeded: settled, never stuck
    await rewrite(payments, ids[3], minutes_ago(200))  # failed: the client may still pay
    await rewrite(payments, ids[4], minutes_ago(100), status="processing")

    params: dict[str, Any] = {"stuck": "true", "contractId": contract.id}
    stuck = await pages(payments, TRANSACTIONS, admin, {**params, "limit": 1}, 10)
    assert [[t["id"] for t in page] for page in stuck] == [[ids[3]], [ids[4]], [ids[0]]]
    assert [page[0]["status"] for page in stuck] == ["failed", "processing", "requires_payment"]

    sooner = await pages(payments, TRANSACTIONS, admin, {**params, "olderThanMinutes": 20}, 2)
    assert [t["id"] for t in sooner[0]] == [ids[3], ids[4], ids[0], ids[1]]
    later = await pages(payments, TRANSACTIONS, admin, {**params, "olderThanMinutes": 150}, 2)
    assert [t["id"] for t in later[0]] == [ids[3]]


async def test_stuck_charges_across_contracts_merge_statuses_oldest_first(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((1, 2, 3, 4, 5))
    await payments.fund(contract, 4)
    ids = await charges(payments, contract)
    # Older than anything else in the table, alternating statuses.
    ancient = datetime(2001, 1, 1, tzinfo=UTC)
    statuses: list[ChargeStatus] = ["requires_payment", "processing", "failed", "requires_payment"]
    for minute, (transaction_id, status) in enumerate(zip(ids, statuses, strict=False)):
        await rewrite(payments, transaction_id, ancient + timedelta(minutes=minute), status)
    await rewrite(payments, ids[4], ancient - timedelta(minutes=1))  # succeeded: not stuck

    listed = await pages(payments, TRANSACTIONS, admin, {"stuck": "true", "limit": 1}, 4)
    assert [page[0]["id"] for page in listed] == ids[:4]
    assert [page[0]["status"] for page in listed] == statuses
    assert all(page[0]["createdAt"].startswith("2001-01-01T00:0") for page in listed)

    together = await payments.client.get(
        TRANSACTIONS, params={"stuck": "true", "limit": 3}, headers=admin
    )
    assert [t["id"] for t in together.json()["items"]] == ids[:3]


async def test_escrow_by_contract_by_state_and_all(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100, 200, 300))
    await payments.fund(contract, 0)
    schedule = (await payments.schedule(contract, contract.client))["items"]

    mine = await pages(payments, ESCROW, admin, {"contractId": contract.id, "limit": 2}, 5)
    items = [e for page in mine for e in page]
    assert [len(p) for p in mine] == [2, 1]
    assert [e["id"] for e in items] == [i["escrowId"] for i in schedule]  # item order
    assert [e["state"] for e in items] == ["funded", "pending_funding", "pending_funding"]
    first = items[0]
    assert first["transactionId"] == schedule[0]["transactionId"]
    assert first["chargeId"].startswith("ch_local_")
    assert (first["title"], first["position"], first["amountMinor"]) == ("Milestone 1", 0, 100)
    assert first["parties"]["contractorUserId"] == contract.contractor_user_id

    pending = await payments.client.get(
        ESCROW, params={"contractId": contract.id, "state": "pending_funding"}, headers=admin
    )
    assert [e["id"] for e in pending.json()["items"]] == [i["escrowId"] for i in schedule[1:]]

    funded = await payments.client.get(ESCROW, params={"state": "funded"}, headers=admin)
    assert funded.json()["items"][0]["id"] == schedule[0]["escrowId"]
    assert {e["state"] for e in funded.json()["items"]} == {"funded"}

    every = await pages(payments, ESCROW, admin, {"limit": 2}, 2)
    newest = [e["id"] for page in every for e in page]
    assert newest[:3] == [i["escrowId"] for i in reversed(schedule)]


async def test_a_flag_is_recorded_once_and_moves_no_money(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100, 200))
    charge = (await charges(payments, contract))[0]
    path = f"{TRANSACTIONS}/{charge}/flag"
    who = uuid.uuid4().hex

    flagged = await payments.client.post(
        path, json={"reason": "  Unpaid for days  ", "flaggedBy": who}, headers=admin
    )
    assert flagged.status_code == 200, flagged.text
    body = flagged.json()
    assert (body["id"], body["status"]) == (charge, "requires_payment")
    flag = body["flag"]
    assert (flag["reason"], flag["flaggedBy"]) == ("Unpaid for days", who)
    assert flag["flaggedAt"].endswith("Z")

    again = await payments.client.post(
        path, json={"reason": "another reason", "flaggedBy": uuid.uuid4().hex}, headers=admin
    )
    assert again.status_code == 200, again.text
    assert again.json()["flag"] == flag

    listed = await payments.client.get(
        TRANSACTIONS, params={"contractId": contract.id}, headers=admin
    )
    flags = {t["id"]: t["flag"] for t in listed.json()["items"]}
    assert flags[charge] == flag
    assert [f for t, f in flags.items() if t != charge] == [None]
    escrow = await payments.client.get(ESCROW, params={"contractId": contract.id}, headers=admin)
    assert [e["state"] for e in escrow.json()["items"]] == ["pending_funding"] * 2

    # The client pays afterwards: the webhook moves the money and keeps the flag.
    await payments.fund(contract, 0)
    paid = await payments.client.get(
        TRANSACTIONS, params={"contractId": contract.id, "status": "succeeded"}, headers=admin
    )
    assert [(t["id"], t["flag"]) for t in paid.json()["items"]] == [(charge, flag)]
    assert (await payments.schedule(contract, contract.client))["items"][0][
        "escrowState"
    ] == "funded"


async def test_simultaneous_flags_keep_one(payments: Payments, admin: dict[str, str]) -> None:
    contract = await payments.activate((100,))
    charge = (await charges(payments, contract))[0]
    answers = await asyncio.gather(
        *(
            payments.client.post(
                f"{TRANSACTIONS}/{charge}/flag",
                json={"reason": f"reason {n}", "flaggedBy": "admin-user"},
                headers=admin,
            )
            for n in range(4)
        )
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["flag"]["reason"] for a in answers}) == 1


async def test_flagging_an_unknown_transaction_is_404(
    payments: Payments, admin: dict[str, str]
) -> None:
    response = await payments.client.post(
        f"{TRANSACTIONS}/txn_{uuid.uuid4().hex}/flag",
        json={"reason": "missing", "flaggedBy": "someone"},
        headers=admin,
    )
    payments.problem(response, 404, "transaction-not-found")


async def test_only_the_admin_service_may_call(fleet: Running, payments: Payments) -> None:
    contract = await payments.activate((100,))
    charge = (await charges(payments, contract))[0]
    calls = [
        ("GET", TRANSACTIONS, None),
        ("GET", f"{TRANSACTIONS}/{charge}", None),
        ("GET", ESCROW, None),
        ("POST", f"{TRANSACTIONS}/{charge}/flag", {"reason": "x", "flaggedBy": "y"}),
    ]
    for method, path, body in calls:
        request = payments.client.request
        payments.problem(await request(method, path, json=body), 401, "unauthorized")
        for other in ("contract", "notification"):
            response = await request(method, path, json=body, headers=fleet.service_bearer(other))
            payments.problem(response, 403, "forbidden")
        # A user's access token is no service token, not even an admin's.
        for role in ("admin", "client"):
            user = payments.headers(uuid.uuid4().hex, role)
            payments.problem(
                await request(method, path, json=body, headers=user), 401, "unauthorized"
            )
    unflagged = await payments.client.get(
        TRANSACTIONS, params={"contractId": contract.id}, headers=fleet.service_bearer("admin")
    )
    assert unflagged.json()["items"][0]["flag"] is None


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (TRANSACTIONS, {"status": "lost"}),
        (TRANSACTIONS, {"status": "Succeeded"}),
        (TRANSACTIONS, {"stuck": "maybe"}),
        (TRANSACTIONS, {"stuck": "true", "olderThanMinutes": 0}),
        (TRANSACTIONS, {"stuck": "true", "olderThanMinutes": 10081}),
        (TRANSACTIONS, {"stuck": "true", "olderThanMinutes": "soon"}),
        (TRANSACTIONS, {"contractId": "has space"}),
        (TRANSACTIONS, {"contractId": ""}),
        (TRANSACTIONS, {"limit": 0}),
        (TRANSACTIONS, {"limit": 101}),
        (ESCROW, {"state": "held"}),
        (ESCROW, {"contractId": "a/b"}),
        (ESCROW, {"limit": 0}),
    ],
)
async def test_bad_queries_are_refused(
    payments: Payments, admin: dict[str, str], path: str, params: dict[str, Any]
) -> None:
    response = await payments.client.get(path, params=params, headers=admin)
    payments.problem(response, 422, "invalid-input")


async def test_stuck_lists_its_own_statuses(payments: Payments, admin: dict[str, str]) -> None:
    response = await payments.client.get(
        TRANSACTIONS, params={"stuck": "true", "status": "processing"}, headers=admin
    )
    payments.problem(response, 422, "stuck-excludes-status")


async def test_a_cursor_only_works_for_the_list_it_came_from(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100, 200, 300))
    first = await payments.client.get(
        TRANSACTIONS, params={"contractId": contract.id, "limit": 1}, headers=admin
    )
    cursor = first.json()["nextCursor"]
    merged = await payments.client.get(ESCROW, params={"limit": 1}, headers=admin)
    for path, params in (
        (TRANSACTIONS, {"cursor": cursor}),
        (TRANSACTIONS, {"cursor": cursor, "contractId": contract.id, "status": "failed"}),
        (TRANSACTIONS, {"cursor": cursor, "contractId": contract.id, "stuck": "true"}),
        (ESCROW, {"cursor": cursor, "contractId": contract.id}),
        (ESCROW, {"cursor": merged.json()["nextCursor"], "state": "funded"}),
        (TRANSACTIONS, {"cursor": "not-a-cursor"}),
    ):
        response = await payments.client.get(path, params=params, headers=admin)
        payments.problem(response, 422, "invalid-cursor")


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "", "flaggedBy": "a"},
        {"reason": "   ", "flaggedBy": "a"},
        {"reason": "x" * 501, "flaggedBy": "a"},
        {"reason": "late"},
        {"reason": "late", "flaggedBy": ""},
        {"reason": "late", "flaggedBy": "a", "status": "succeeded"},
        {"flaggedBy": "a"},
    ],
)
async def test_bad_flags_are_refused(
    payments: Payments, admin: dict[str, str], body: dict[str, Any]
) -> None:
    path = f"{TRANSACTIONS}/txn_{uuid.uuid4().hex}/flag"
    response = await payments.client.post(path, json=body, headers=admin)
    payments.problem(response, 422, "invalid-input")


async def test_a_reason_of_500_characters_is_accepted(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100,))
    charge = (await charges(payments, contract))[0]
    response = await payments.client.post(
        f"{TRANSACTIONS}/{charge}/flag",
        json={"reason": "r" * 500, "flaggedBy": "admin-user"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["flag"]["reason"] == "r" * 500
