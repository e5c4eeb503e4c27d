"""The escrow lifecycle and a contract's termination → the party concerned
(issue 15): a submission and its reminders to the client, a request for
changes to the contractor, a dispute to the other party, a refund to the
client, a settlement to whom no other mail told it, an invoice and a
termination to both.

Money mails are ``paymentUpdates``, contract mails ``contractUpdates``, as
the other lifecycle mails: not essential, so the recipient's opt-outs apply.
Each (event, recipient) is one notification, de-duplicated as in ``flows``.
"""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.events import (
    ChangesRequested,
    ContractTerminated,
    ContractTerminationScheduled,
    EscrowDisputed,
    EscrowSettled,
    EscrowStep,
    InvoiceIssued,
    PaymentRefunded,
    ReviewReminder,
    WorkSubmitted,
)
from mindlinks_fleet.internal.notification import Category
from mindlinks_fleet.money import format_money
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler
from mindlinks_kit.events.envelope import Delivered
from mindlinks_notification.domain import format_when, settled_sides
from mindlinks_notification.service.flows import EventNotifications

PAYMENTS: Category = "paymentUpdates"
CONTRACTS: Category = "contractUpdates"


class EscrowNotifications:
    def __init__(self, flows: EventNotifications) -> None:
        self.flows = flows

    def handlers(self) -> dict[str, Handler]:
        return {
            "payment.work-submitted": self.work_submitted,
            "payment.changes-requested": self.changes_requested,
            "payment.review-reminder": self.review_reminder,
            "payment.disputed": self.disputed,
            "payment.refunded": self.refunded,
            "payment.item-settled": self.settled,
            "payment.invoice-issued": self.invoice_issued,
            "contract.termination-scheduled": self.termination_scheduled,
            "contract.terminated": self.terminated,
        }

    def _item(self, p: EscrowStep) -> dict[str, Any]:
        """What every item mail says: how much, and where its contract is (the
        item's title is the payment service's, not in the event)."""
        return {
            "amount": format_money(p.amount_minor, p.currency),
            "contractUrl": self.flows.contract_url(p.contract_id),
        }

    async def _to(
        self,
        event: Delivered[Any],
        sides: dict[str, str],
        template: str,
        data: dict[str, Any],
        category: Category,
        uow: UnitOfWork,
    ) -> None:
        """``template`` to each side's user (``role``: the recipient's side),
        their addresses read together."""
        known = await self.flows.people.addressees(list(sides.values()))
        for role, user_id in sides.items():
            data_for = {**data, "role": role}
            await self.flows.notify(event, user_id, template, data_for, category, uow, known=known)

    async def work_submitted(self, event: Delivered[WorkSubmitted], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self._item(p),
            "submissionNo": p.submission_no,
            "reviewDueAt": format_when(p.review_due_at),
        }
        await self._to(
            event, {"client": p.client_user_id}, "escrow.work-submitted", data, PAYMENTS, uow
        )

    async def changes_requested(self, event: Delivered[ChangesRequested], uow: UnitOfWork) -> None:
        p = event.payload
        data = {**self._item(p), "reason": p.reason}
        sides = {"contractor": p.contractor_user_id}
        await self._to(event, sides, "escrow.changes-requested", data, PAYMENTS, uow)

    async def review_reminder(self, event: Delivered[ReviewReminder], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self._item(p),
            "daysLeft": p.days_left,
            "reviewDueAt": format_when(p.review_due_at),
        }
        await self._to(
            event, {"client": p.client_user_id}, "escrow.review-reminder", data, PAYMENTS, uow
        )

    async def disputed(self, event: Delivered[EscrowDisputed], uow: UnitOfWork) -> None:
        """To the other party: the one who opened it knows."""
        p = event.payload
        other = (
            {"contractor": p.contractor_user_id}
            if p.opened_by_side == "client"
            else {"client": p.client_user_id}
        )
        data = {**self._item(p), "reason": p.reason}
        await self._to(event, other, "escrow.disputed", data, PAYMENTS, uow)

    async def refunded(self, event: Delivered[PaymentRefunded], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self._item(p),
            "refunded": format_money(p.refunded_minor, p.currency),
            "reason": p.reason,
        }
        await self._to(event, {"client": p.client_user_id}, "escrow.refunded", data, PAYMENTS, uow)

    async def settled(self, event: Delivered[EscrowSettled], uow: UnitOfWork) -> None:
        p = event.payload
        users = {"client": p.client_user_id, "contractor": p.contractor_user_id}
        sides = {side: users[side] for side in settled_sides(p.outcome)}
        if not sides:
            return
        data = {
            **self._item(p),
            "released": format_money(p.released_minor, p.currency),
            "refunded": format_money(p.refunded_minor, p.currency),
            "outcome": p.outcome,
            "reason": p.reason,
            "allSettled": p.all_settled,
        }
        await self._to(event, sides, "escrow.settled", data, PAYMENTS, uow)

    async def invoice_issued(self, event: Delivered[InvoiceIssued], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            "number": p.number,
            "amount": format_money(p.amount_minor, p.currency),
            "contractUrl": self.flows.contract_url(p.contract_id),
        }
        sides = {"client": p.client_user_id, "contractor": p.contractor_user_id}
        await self._to(event, sides, "escrow.invoice-issued", data, PAYMENTS, uow)

    async def termination_scheduled(
        self, event: Delivered[ContractTerminationScheduled], uow: UnitOfWork
    ) -> None:
        p = event.payload
        data = {
            **self.flows.contract(p),
            "reason": p.reason,
            "bySide": p.by_side,
            "endsAt": format_when(p.ends_at),
        }
        sides = {"client": p.client_user_id, "contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.termination-scheduled", data, CONTRACTS, uow)

    async def terminated(self, event: Delivered[ContractTerminated], uow: UnitOfWork) -> None:
        p = event.payload
        data = {**self.flows.contract(p), "reason": p.reason, "bySide": p.by_side}
        sides = {"client": p.client_user_id, "contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.terminated", data, CONTRACTS, uow)
