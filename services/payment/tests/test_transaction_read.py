"""One transaction for the admin service (its state before a flag): as the
internal list shows it, flag included. Who may call it is checked with the
other internal routes in ``test_oversight.py``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Payments

TRANSACTIONS = "/internal/payments/transactions"


@pytest.fixture
def admin(fleet: Running) -> dict[str, str]:
    return fleet.service_bearer("admin")


async def test_one_transaction_as_the_list_shows_it(
    payments: Payments, admin: dict[str, str]
) -> None:
    contract = await payments.activate((100, 200))
    await payments.fund(contract, 0)
    items = (await payments.schedule(contract, contract.client))["items"]
    paid, unpaid = (i["transactionId"] for i in items)
    flagged = await payments.client.post(
        f"{TRANSACTIONS}/{unpaid}/flag",
        json={"reason": "Unpaid for days", "flaggedBy": "admin-user"},
        headers=admin,
    )
    assert flagged.status_code == 200, flagged.text

    listed = await payments.client.get(
        TRANSACTIONS, params={"contractId": contract.id}, headers=admin
    )
    by_id = {t["id"]: t for t in listed.json()["items"]}
    for transaction_id in (paid, unpaid):
        one = await payments.client.get(f"{TRANSACTIONS}/{transaction_id}", headers=admin)
        assert one.status_code == 200, one.text
        assert one.json() == by_id[transaction_id]
        assert "clientSecret" not in one.json()

    first = (await payments.client.get(f"{TRANSACTIONS}/{paid}", headers=admin)).json()
    assert (first["status"], first["amountMinor"], first["flag"]) == ("succeeded", 100, None)
    assert first["parties"]["contractorUserId"] == contract.contractor_user_id
    second = (await payments.client.get(f"{TRANSACTIONS}/{unpaid}", headers=admin)).json()
    assert second["status"] == "requires_payment"
    assert second["flag"] == flagged.json()["flag"]


async def test_an_unknown_transaction_is_404(payments: Payments, admin: dict[str, str]) -> None:
    response = await payments.client.get(f"{TRANSACTIONS}/txn_{uuid.uuid4().hex}", headers=admin)
    payments.problem(response, 404, "transaction-not-found")


@pytest.mark.parametrize("transaction_id", ["has space", "a!b", "x" * 129])
async def test_a_malformed_id_is_refused(
    payments: Payments, admin: dict[str, str], transaction_id: str
) -> None:
    response = await payments.client.get(f"{TRANSACTIONS}/{transaction_id}", headers=admin)
    payments.problem(response, 422, "invalid-input")
