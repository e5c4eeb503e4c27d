"""Racing steps on one item: a release, a refund (an agreed full refund or a
termination's) and a dispute at the same moment — only one wins, the others
are refused with 409, and the local Stripe moved the money once."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Escrows, Payments


def idempotency() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def test_release_refund_and_dispute_race_and_one_wins(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    outcomes: dict[str, int] = {}
    for _ in range(4):
        contract, (escrow_id,) = await escrows.funded((10000,))
        await escrows.submit(escrow_id, contract)
        proposed = await escrows.post(
            escrow_id, "agreement", contract.contractor, {"refundMinor": 10000}
        )
        assert proposed.status_code == 200
        release, refund, dispute = await asyncio.gather(
            escrows.post(escrow_id, "approve", {**contract.client, **idempotency()}),
            escrows.post(
                escrow_id,
                "agreement/accept",
                {**contract.client, **idempotency()},
                {"refundMinor": 10000},
            ),
            escrows.post(escrow_id, "disputes", contract.client, {"reason": "Stop"}),
        )
        answers = {"release": release, "refund": refund, "dispute": dispute}
        winners = [name for name, r in answers.items() if r.status_code == 200]
        assert len(winners) == 1, {n: r.text for n, r in answers.items()}
        for name, response in answers.items():
            if name not in winners:
                payments.problem(response, 409)
        (winner,) = winners
        outcomes[winner] = outcomes.get(winner, 0) + 1
        state = (await escrows.detail(escrow_id, contract.client))["state"]
        transfer = await escrows.stripe_object("tr", escrow_id)
        refunded = await escrows.stripe_object("re", escrow_id)
        expected: dict[str, tuple[str, bool, bool]] = {
            "release": ("released", True, False),
            "refund": ("refunded", False, True),
            "dispute": ("disputed", False, False),
        }
        assert (state, transfer is not None, refunded is not None) == expected[winner]
        events = [
            len(await payments.published(name, contract.id))
            for name in ("payment.released", "payment.refunded", "payment.disputed")
        ]
        assert sum(events) == 1
    assert sum(outcomes.values()) == 4


async def test_a_release_racing_a_termination_refund_moves_money_once(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    deps = fleet.deps("payment")

    async def terminate() -> Any:
        await deps.effects.on_terminated(uuid.uuid4().hex, escrows.terminated(contract))

    release, _ = await asyncio.gather(
        escrows.post(escrow_id, "approve", {**contract.client, **idempotency()}), terminate()
    )
    await fleet.deliver()
    state = (await escrows.detail(escrow_id, contract.client))["state"]
    transfer = await escrows.stripe_object("tr", escrow_id)
    refunded = await escrows.stripe_object("re", escrow_id)
    if release.status_code == 200:
        assert (state, transfer is not None, refunded) == ("released", True, None)
    else:
        payments.problem(release, 409)
        assert (state, transfer, refunded is not None) == ("refunded", None, True)
    assert len(await payments.published("payment.item-settled", contract.id)) == 1
