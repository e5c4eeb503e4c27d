"""A contract's signing deadline → the party concerned (issue 16): each
reminder and a moved deadline to whoever must sign next, the expiry to both
parties. Contract mails (``contractUpdates``): the recipient's opt-outs
apply. Each (event, recipient) is one notification, de-duplicated as in
``flows``.
"""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.events import ContractExpired, SigningDeadlineExtended, SigningReminder
from mindlinks_fleet.internal.notification import Category
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler
from mindlinks_kit.events.envelope import Delivered
from mindlinks_notification.domain import format_when
from mindlinks_notification.service.flows import EventNotifications

CONTRACTS: Category = "contractUpdates"


class SigningNotifications:
    def __init__(self, flows: EventNotifications) -> None:
        self.flows = flows

    def handlers(self) -> dict[str, Handler]:
        return {
            "contract.signing-reminder": self.reminder,
            "contract.signing-deadline-extended": self.extended,
            "contract.expired": self.expired,
        }

    async def _to(
        self,
        event: Delivered[Any],
        sides: dict[str, str],
        template: str,
        data: dict[str, Any],
        uow: UnitOfWork,
    ) -> None:
        known = await self.flows.people.addressees(list(sides.values()))
        for role, user_id in sides.items():
            data_for = {**data, "role": role}
            await self.flows.notify(event, user_id, template, data_for, CONTRACTS, uow, known=known)

    async def reminder(self, event: Delivered[SigningReminder], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self.flows.contract(p),
            "signingDeadline": format_when(p.signing_deadline),
            "manual": p.manual,
            "reminderNo": p.reminder_no,
        }
        sides: dict[str, str] = {p.to_side: p.to_user_id}
        await self._to(event, sides, "contract.signing-reminder", data, uow)

    async def extended(self, event: Delivered[SigningDeadlineExtended], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self.flows.contract(p),
            "signingDeadline": format_when(p.signing_deadline),
            "previousDeadline": format_when(p.previous_deadline),
        }
        sides: dict[str, str] = {p.to_side: p.to_user_id}
        await self._to(event, sides, "contract.signing-deadline-extended", data, uow)

    async def expired(self, event: Delivered[ContractExpired], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self.flows.contract(p),
            "signingDeadline": format_when(p.signing_deadline),
            "waitingFor": p.waiting_for,
        }
        sides = {"client": p.client_user_id, "contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.expired", data, uow)
