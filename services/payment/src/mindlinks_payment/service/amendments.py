"""``contract.amended`` (issue 16, ADR 0017): the payment schedule follows an
amendment in force. Each added item is opened as activation opens one (a
PaymentIntent and its escrow, under ids and Stripe keys derived from the
item); each removed item ends as a termination ends it, with reason
``amended``: unpaid, cancelled with its intent; funded in the instant before
(the ADR's race: the contract refuses amendments that touch funded items),
refunded in full; submitted or disputed, left to its review or the admin.

Added items are committed before any removed one is settled, so the
``allSettled`` of a removal counts them. Each item commits on its own: a
redelivery finds the done ones done. No FastAPI here.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from mindlinks_fleet.events import ContractAmended, ScheduleItem
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_payment.domain import Escrow, amended_position
from mindlinks_payment.service.escrow_effects import EscrowEffects
from mindlinks_payment.service.payments import ITEMS_PER_COMMIT, Payments

log = structlog.get_logger("mindlinks.amendments")


class AmendmentDeferred(Exception):
    """An amendment that must wait: for an item's payment to arrive (Stripe
    would not cancel it), or for the contract's activation to reach payment."""


class Amendments:
    def __init__(
        self,
        *,
        payments: Payments,
        effects: EscrowEffects,
        new_uow: Callable[[], UnitOfWork],
    ) -> None:
        self.payments = payments
        self.effects = effects
        self.new_uow = new_uow

    async def on_amended(self, event_id: str, amended: ContractAmended) -> None:
        contract = amended.contract_id
        before = await self.payments.contract_items(contract)
        if not before:
            # Nothing opened yet: the activation is still on its way here, and
            # an amendment applies to the schedule it opens. Delivered again.
            raise AmendmentDeferred(f"{contract} has no escrowed items yet")
        opened = await self._open_added(amended)
        # The items just opened are known here: the contract's index may not
        # list them yet, and each removal's allSettled must count them.
        escrows = sorted(
            {e.id: e for e in (*before, *opened)}.values(), key=lambda e: (e.position, e.item_id)
        )
        removed = set(amended.removed_item_ids)
        ending = {e.id for e in escrows if e.item_id in removed}
        paid_meanwhile = await self.effects.end_items(event_id, escrows, ending, "amended")
        if paid_meanwhile:
            # As for a termination: delivered again (with backoff) until the
            # payment's webhook has funded the item, which is then refunded.
            raise AmendmentDeferred(f"paid while amended: {', '.join(paid_meanwhile)}")
        log.info(
            "schedule.amended",
            contract_id=contract,
            number=amended.number,
            added=len(amended.added_item_ids),
            removed=len(ending),
        )

    async def _open_added(self, amended: ContractAmended) -> list[Escrow]:
        """Open the items the amendment adds (not opened yet), committed now."""
        pending = await self.payments.unopened(amended.contract_id, added(amended))
        opened: list[Escrow] = []
        for start in range(0, len(pending), ITEMS_PER_COMMIT):
            uow = self.new_uow()
            chunk = [
                await self.payments.open_item(amended, position, item, uow)
                for position, item in pending[start : start + ITEMS_PER_COMMIT]
            ]
            await uow.commit()
            opened.extend(chunk)
        return opened


def added(amended: ContractAmended) -> list[tuple[int, ScheduleItem]]:
    """The added items of the new schedule, each with its position (``amended_position``)."""
    new = set(amended.added_item_ids)
    return [
        (amended_position(amended.number, index), item)
        for index, item in enumerate(amended.schedule)
        if item.item_id in new
    ]
