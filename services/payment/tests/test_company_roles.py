"""Payments belong to the client company: every member reads its schedules and
transactions, the roles ``payments.move`` allows (owner, admin, finance)
release its escrow and alone see the client secrets that pay it; a member of
another company learns nothing; a member of several names the company it acts
for in ``X-Company-Id``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_fleet.teams import COMPANY_HEADER, PERMISSIONS, CompanyRole

if TYPE_CHECKING:
    from conftest import Contract, Payments

ROLES = [r.value for r in CompanyRole]
MOVERS = {r.value for r in PERMISSIONS["payments.move"]}
TRANSACTIONS = "/v1/payments/transactions"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def release(payments: Payments, escrow_id: str, headers: dict[str, str]) -> Any:
    return await payments.client.post(
        f"/v1/payments/escrow/{escrow_id}/release", headers={**headers, **key()}
    )


async def funded(payments: Payments) -> tuple[Contract, str]:
    """An activated contract of one funded item, its contractor ready for
    payouts: (the contract, the item's escrow id)."""
    contract = await payments.activate((1000,))
    await payments.fund(contract)
    await payments.payout_ready(contract)
    [item] = (await payments.schedule(contract, contract.client))["items"]
    return contract, str(item["escrowId"])


@pytest.mark.parametrize("role", ROLES)
async def test_every_member_reads_and_only_those_who_move_money_see_secrets(
    payments: Payments, role: str
) -> None:
    contract = await payments.activate((100, 200))
    member = payments.member(contract, role)
    schedule = await payments.schedule(contract, member)
    secrets = [i["clientSecret"] for i in schedule["items"]]
    if role in MOVERS:
        assert all(s and s.startswith("pi_local_") for s in secrets), secrets
    else:
        assert secrets == [None, None]
    listed = await payments.client.get(TRANSACTIONS, headers=member)
    assert listed.status_code == 200, listed.text
    assert sorted(t["amountMinor"] for t in listed.json()["items"]) == [100, 200]
    assert all("clientSecret" not in t for t in listed.json()["items"])


@pytest.mark.parametrize("role", sorted(MOVERS - {"owner"}))
async def test_admins_and_finance_release_the_companys_escrow(
    payments: Payments, role: str
) -> None:
    contract, escrow = await funded(payments)
    released = await release(payments, escrow, payments.member(contract, role))
    assert released.status_code == 200, released.text
    assert released.json()["state"] == "released"
    [event] = await payments.published("payment.released", contract.id)
    # The contract's client party stays the company's (and its drafter's).
    assert event["clientUserId"] == contract.client_user_id


@pytest.mark.parametrize("role", sorted(set(ROLES) - MOVERS))
async def test_managers_and_viewers_do_not_move_money(payments: Payments, role: str) -> None:
    contract, escrow = await funded(payments)
    refused = await release(payments, escrow, payments.member(contract, role))
    problem = payments.problem(refused, 403, "company-role-not-allowed")
    assert problem["detail"].endswith(f"yours is {role}")
    assert await payments.published("payment.released", contract.id) == []


async def test_a_member_of_another_company_learns_nothing(payments: Payments) -> None:
    contract, escrow = await funded(payments)
    other = payments.contract()
    outsider = payments.member(other, "finance")
    for stranger in (other.client, outsider):
        schedule = await payments.client.get(
            f"/v1/payments/contracts/{contract.id}/schedule", headers=stranger
        )
        payments.problem(schedule, 404, "not-found")
        payments.problem(await release(payments, escrow, stranger), 404, "not-found")
        listed = await payments.client.get(
            TRANSACTIONS, params={"contractId": contract.id}, headers=stranger
        )
        assert listed.json() == {"items": [], "nextCursor": None}


async def test_a_member_of_two_companies_names_the_one_it_acts_for(payments: Payments) -> None:
    contract, escrow = await funded(payments)
    other = payments.contract()
    # The other company's owner is also a viewer of the first one.
    both = payments.member(contract, "viewer", user_id=other.client_user_id)
    path = f"/v1/payments/contracts/{contract.id}/schedule"
    for answer in (
        await payments.client.get(path, headers=both),
        await payments.client.get(TRANSACTIONS, headers=both),
        await release(payments, escrow, both),
    ):
        payments.problem(answer, 400, "company-header-required")
    as_first = {**both, COMPANY_HEADER: contract.client_company_id}
    as_other = {**both, COMPANY_HEADER: other.client_company_id}
    schedule = await payments.schedule(contract, as_first)
    assert [i["clientSecret"] for i in schedule["items"]] == [None]  # a viewer here
    payments.problem(await release(payments, escrow, as_first), 403, "company-role-not-allowed")
    payments.problem(await release(payments, escrow, as_other), 404, "not-found")
    mine = await payments.client.get(TRANSACTIONS, headers=as_first)
    assert {t["contractId"] for t in mine.json()["items"]} == {contract.id}
    unknown = {**both, COMPANY_HEADER: uuid.uuid4().hex}
    payments.problem(await payments.client.get(path, headers=unknown), 404, "company-not-found")
