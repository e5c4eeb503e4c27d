"""Releasing a funded item: the client party only, Idempotency-Key required,
a transfer to the contractor's connected account, payment.released."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_dev.harness import Running
from mindlinks_payment.domain import Caller, ReleaseConflict

if TYPE_CHECKING:
    from conftest import Contract, Payments


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def escrows(payments: Payments, contract: Contract) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await payments.schedule(contract, contract.client))["items"]
    return items


async def release(
    payments: Payments, escrow_id: str, headers: dict[str, str], idempotency: dict[str, str]
) -> Any:
    return await payments.client.post(
        f"/v1/payments/escrow/{escrow_id}/release", headers={**headers, **idempotency}
    )


async def funded(payments: Payments, amounts: tuple[int, ...] = (150000, 50000)) -> Contract:
    contract = await payments.activate(amounts)
    for index in range(len(amounts)):
        await payments.fund(contract, index)
    return contract


async def test_releasing_every_item_pays_out_the_contract(
    fleet: Running, payments: Payments
) -> None:
    contract = await funded(payments)
    account = await payments.payout_ready(contract)
    first, second = await escrows(payments, contract)

    response = await release(payments, first["escrowId"], contract.client, key())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == first["escrowId"]
    assert (body["state"], body["amountMinor"], body["currency"]) == ("released", 150000, "EUR")
    assert body["transferId"].startswith("tr_local_")
    assert body["releasedAt"].endswith("Z")

    # The transfer as the (local) Stripe made it: from the charge, to the contractor.
    transfer = await fleet.deps("payment").local_stripe.objects.get(body["transferId"])
    intent = await fleet.deps("payment").local_stripe.objects.get(first["paymentIntentId"])
    assert transfer["destination"] == account
    assert transfer["amount"] == 150000
    assert transfer["currency"] == "eur"
    assert transfer["transfer_group"] == contract.id
    assert transfer["source_transaction"] == intent["latest_charge"]
    assert transfer["metadata"]["escrowId"] == first["escrowId"]

    released = await payments.published("payment.released", contract.id)
    assert released == [
        {
            "contractId": contract.id,
            "itemId": first["itemId"],
            "escrowId": first["escrowId"],
            "transferId": body["transferId"],
            "clientUserId": contract.client_user_id,
            "contractorUserId": contract.contractor_user_id,
            "contractorId": contract.contractor_id,
            "amountMinor": 150000,
            "currency": "EUR",
            "allReleased": False,
            "reason": "approved",
            "clientCompanyId": contract.client_company_id,
        }
    ]
    last = await release(payments, second["escrowId"], contract.client, key())
    assert last.status_code == 200, last.text
    events = await payments.published("payment.released", contract.id)
    assert [e["allReleased"] for e in events] == [False, True]

    schedule = await payments.schedule(contract, contract.contractor)
    assert schedule["allReleased"] is True
    assert [i["escrowState"] for i in schedule["items"]] == ["released", "released"]
    assert schedule["items"][0]["transferId"] == body["transferId"]

    # The contractor sees the transfers among its transactions.
    mine = await payments.client.get("/v1/payments/transactions", headers=contract.contractor)
    transfers = [t for t in mine.json()["items"] if t["kind"] == "transfer"]
    assert {t["transferId"] for t in transfers} == {body["transferId"], last.json()["transferId"]}
    assert {t["status"] for t in transfers} == {"succeeded"}


async def test_a_repeated_release_answers_the_first_response(payments: Payments) -> None:
    contract = await funded(payments, (90000,))
    await payments.payout_ready(contract)
    (item,) = await escrows(payments, contract)
    idempotency = key()
    first = await release(payments, item["escrowId"], contract.client, idempotency)
    again = await release(payments, item["escrowId"], contract.client, idempotency)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await payments.published("payment.released", contract.id)) == 1
    assert (await payments.published("payment.released", contract.id))[0]["allReleased"] is True

    # Another key on a released item: refused, not transferred twice.
    payments.problem(
        await release(payments, item["escrowId"], contract.client, key()),
        409,
        "escrow-already-released",
    )
    # The key on another request: refused.
    other = await funded(payments, (1000,))
    (other_item,) = await escrows(payments, other)
    payments.problem(
        await release(payments, other_item["escrowId"], contract.client, idempotency),
        422,
        "idempotency-key-reused",
    )


async def test_the_idempotency_key_is_required(payments: Payments) -> None:
    contract = await funded(payments, (1000,))
    (item,) = await escrows(payments, contract)
    payments.problem(
        await release(payments, item["escrowId"], contract.client, {}),
        422,
        "idempotency-key-required",
    )
    payments.problem(
        await release(payments, item["escrowId"], contract.client, {"Idempotency-Key": "short"}),
        422,
        "invalid-input",
    )


async def test_only_a_funded_item_is_released(payments: Payments) -> None:
    contract = await payments.activate((1000, 2000))
    await payments.payout_ready(contract)
    first, _ = await escrows(payments, contract)
    idempotency = key()
    payments.problem(
        await release(payments, first["escrowId"], contract.client, idempotency),
        409,
        "escrow-not-funded",
    )
    assert await payments.published("payment.released", contract.id) == []
    # A refusal keeps nothing: the same key works once the item is funded.
    await payments.fund(contract, 0)
    ok = await release(payments, first["escrowId"], contract.client, idempotency)
    assert ok.status_code == 200, ok.text
    assert (await payments.published("payment.released", contract.id))[0]["allReleased"] is False


async def test_the_contractor_needs_a_payout_account_that_takes_transfers(
    payments: Payments,
) -> None:
    contract = await funded(payments, (1000,))
    (item,) = await escrows(payments, contract)
    payments.problem(
        await release(payments, item["escrowId"], contract.client, key()),
        409,
        "payout-account-missing",
    )

    payments.contractor_profile(contract)
    opened = await payments.client.post("/v1/payments/payout-account", headers=contract.contractor)
    assert opened.status_code == 201
    payments.problem(
        await release(payments, item["escrowId"], contract.client, key()),
        409,
        "payout-account-incomplete",
    )
    # Onboarding finished on Stripe's side: the release asks Stripe again.
    onboarding = await payments.client.get(httpx.URL(opened.json()["onboardingUrl"]).path)
    assert onboarding.status_code == 200
    assert onboarding.json()["transfersActive"] is True
    assert (await release(payments, item["escrowId"], contract.client, key())).status_code == 200


async def test_a_simultaneous_release_of_the_last_two_items_cannot_both_say_not_last(
    fleet: Running, payments: Payments
) -> None:
    """Each release guards the other items' state at commit: of two releases that
    both saw the other item unreleased, the second to commit is refused."""
    contract = await funded(payments)
    await payments.payout_ready(contract)
    first, second = await escrows(payments, contract)
    deps = fleet.deps("payment")
    uow = deps.runtime.uow()
    caller = Caller(
        contract.client_user_id, "client", company_id=contract.client_company_id, moves_money=True
    )
    await deps.escrow.approve(caller, first["escrowId"], "claim-a", uow)
    assert (await release(payments, second["escrowId"], contract.client, key())).status_code == 200
    with pytest.raises(ReleaseConflict):
        await uow.commit()
    # The first item stays claimed by its request: another request is refused,
    # the claim's own retry completes it (the same transfer).
    payments.problem(
        await release(payments, first["escrowId"], contract.client, key()),
        409,
        "escrow-state-conflict",
    )
    again = deps.runtime.uow()
    retried = await deps.escrow.approve(caller, first["escrowId"], "claim-a", again)
    await again.commit()
    events = await payments.published("payment.released", contract.id)
    assert [e["allReleased"] for e in events] == [False, True]
    assert events[1]["transferId"] == retried.transfer_id


async def test_release_authorization(fleet: Running, payments: Payments) -> None:
    contract = await funded(payments, (1000,))
    await payments.payout_ready(contract)
    (item,) = await escrows(payments, contract)
    path = f"/v1/payments/escrow/{item['escrowId']}/release"
    post = payments.client.post
    assert (await post(path, headers=key())).status_code == 401
    assert (
        await post(path, headers={**fleet.service_bearer("contract"), **key()})
    ).status_code == 401
    payments.problem(await post(path, headers={**contract.contractor, **key()}), 403, "forbidden")
    admin = payments.headers(uuid.uuid4().hex, "admin")
    payments.problem(await post(path, headers={**admin, **key()}), 403, "forbidden")
    lonely = payments.headers(uuid.uuid4().hex, "client")
    payments.problem(await post(path, headers={**lonely, **key()}), 409, "company-required")
    stranger = payments.contract().client  # the owner of another company
    foreign = payments.problem(await post(path, headers={**stranger, **key()}), 404, "not-found")
    unknown = payments.problem(
        await post("/v1/payments/escrow/esc_unknown/release", headers={**contract.client, **key()}),
        404,
        "not-found",
    )
    assert {k: v for k, v in foreign.items() if k != "instance"} == {
        k: v for k, v in unknown.items() if k != "instance"
    }
    bad = await post("/v1/payments/escrow/has space/release", headers={**contract.client, **key()})
    payments.problem(bad, 422, "invalid-input")
    assert await payments.published("payment.released", contract.id) == []
    assert (await post(path, headers={**contract.client, **key()})).status_code == 200


async def test_a_release_that_loses_the_race_to_a_sibling_is_run_again_at_once(
    fleet: Running, payments: Payments, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other item is released between this release's read and its commit:
    the commit is refused (release-conflict, a ``Contention``) and the request
    runs again at once with a fresh read, so the client gets its 200 (the same
    transfer: Stripe's key is the item's)."""
    contract = await funded(payments)
    await payments.payout_ready(contract)
    first, second = await escrows(payments, contract)
    store = fleet.deps("payment").store
    read = store.escrows_of

    async def read_then_lose_the_race(contract_id: str) -> Any:
        seen = await read(contract_id)
        monkeypatch.setattr(store, "escrows_of", read)
        other = await release(payments, second["escrowId"], contract.client, key())
        assert other.status_code == 200, other.text
        return seen

    monkeypatch.setattr(store, "escrows_of", read_then_lose_the_race)
    idempotency = key()
    won = await release(payments, first["escrowId"], contract.client, idempotency)
    assert won.status_code == 200, won.text
    replayed = await release(payments, first["escrowId"], contract.client, idempotency)
    assert replayed.json() == won.json()
    events = await payments.published("payment.released", contract.id)
    assert [e["allReleased"] for e in events] == [False, True]
