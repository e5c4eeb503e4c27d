"""The caller's transactions: paginated, per contract, newest first."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Payments

PATH = "/v1/payments/transactions"


async def test_parties_page_through_their_transactions(payments: Payments) -> None:
    contract = await payments.activate((100, 200, 300))
    get = payments.client.get
    first = await get(PATH, params={"limit": 2}, headers=contract.client)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2
    assert page["nextCursor"]
    rest = await get(
        PATH, params={"limit": 2, "cursor": page["nextCursor"]}, headers=contract.client
    )
    assert len(rest.json()["items"]) == 1
    assert rest.json()["nextCursor"] is None
    items = page["items"] + rest.json()["items"]
    assert sorted(t["amountMinor"] for t in items) == [100, 200, 300]
    created = [t["createdAt"] for t in items]
    assert created == sorted(created, reverse=True)
    for item in items:
        assert item["kind"] == "charge"
        assert item["status"] == "requires_payment"
        assert item["contractId"] == contract.id
        assert item["paymentIntentId"].startswith("pi_local_")
        assert "clientSecret" not in item

    contractor = await get(PATH, headers=contract.contractor)
    assert {t["id"] for t in contractor.json()["items"]} == {t["id"] for t in items}
    by_contract = await get(PATH, params={"contractId": contract.id}, headers=contract.contractor)
    assert {t["id"] for t in by_contract.json()["items"]} == {t["id"] for t in items}


async def test_nobody_lists_another_tenants_transactions(payments: Payments) -> None:
    contract = await payments.activate((100,))
    # Another company's owner, a contractor of none of its contracts.
    for stranger in (payments.contract().client, payments.headers(uuid.uuid4().hex, "contractor")):
        mine = await payments.client.get(PATH, headers=stranger)
        assert mine.json() == {"items": [], "nextCursor": None}
        theirs = await payments.client.get(
            PATH, params={"contractId": contract.id}, headers=stranger
        )
        assert theirs.json() == {"items": [], "nextCursor": None}


async def test_admins_list_one_contract_at_a_time(payments: Payments) -> None:
    contract = await payments.activate((100, 200))
    admin = payments.headers(uuid.uuid4().hex, "admin")
    payments.problem(await payments.client.get(PATH, headers=admin), 422, "contract-id-required")
    listed = await payments.client.get(PATH, params={"contractId": contract.id}, headers=admin)
    assert len(listed.json()["items"]) == 2


async def test_a_cursor_only_works_for_the_list_it_came_from(payments: Payments) -> None:
    contract = await payments.activate((100, 200, 300))
    page = await payments.client.get(PATH, params={"limit": 1}, headers=contract.client)
    cursor = page.json()["nextCursor"]
    for headers, params in (
        (contract.contractor, {"cursor": cursor}),
        (contract.client, {"cursor": cursor, "contractId": contract.id}),
        (contract.client, {"cursor": "not-a-cursor"}),
    ):
        response = await payments.client.get(PATH, params=params, headers=headers)
        payments.problem(response, 422, "invalid-cursor")


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"contractId": "has space"}, {"contractId": ""}],
)
async def test_bad_queries_are_refused(payments: Payments, params: dict[str, str | int]) -> None:
    response = await payments.client.get(PATH, params=params, headers=payments.contract().client)
    payments.problem(response, 422, "invalid-input")


async def test_transactions_need_a_user_token(fleet: Running, payments: Payments) -> None:
    assert (await payments.client.get(PATH)).status_code == 401
    assert (
        await payments.client.get(PATH, headers=fleet.service_bearer("admin"))
    ).status_code == 401
