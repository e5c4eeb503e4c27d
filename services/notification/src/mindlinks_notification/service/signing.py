"""A contract's signing deadline and its amendments → the party concerned
(issue 16): each reminder and a moved deadline to whoever must sign next,
the expiry to both parties; an amendment's proposal and the client's
signature to the contractor (who signs last), a decline to the other party,
a withdrawal to the contractor (told at the proposal), the amendment in
force to both (ADR 0017). Contract mails (``contractUpdates``): the
recipient's opt-outs apply, as for the contract's own signing mails. Each
(event, recipient) is one notification, de-duplicated as in ``flows``.
"""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.events import (
    AmendmentDeclined,
    AmendmentProposed,
    AmendmentSignatureRecorded,
    AmendmentWithdrawn,
    ContractAmended,
    ContractExpired,
    SigningDeadlineExtended,
    SigningReminder,
)
from mindlinks_fleet.internal.notification import Category
from mindlinks_fleet.money import format_money
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
            "contract.amendment-proposed": self.amendment_proposed,
            "signature.amendment-client-signed": self.amendment_client_signed,
            "signature.amendment-declined": self.amendment_declined,
            "contract.amendment-withdrawn": self.amendment_withdrawn,
            "contract.amended": self.amended,
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

    # amendments (ADR 0017) ------------------------------------------------------

    async def amendment_proposed(
        self, event: Delivered[AmendmentProposed], uow: UnitOfWork
    ) -> None:
        """To the contractor: the client signs first, then they are asked."""
        p = event.payload
        data = {
            **self.flows.contract(p),
            "number": p.number,
            "reason": p.reason,
            "total": format_money(p.total_minor, p.currency),
            "previousTotal": format_money(p.previous_total_minor, p.currency),
        }
        sides = {"contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.amendment-proposed", data, uow)

    async def amendment_client_signed(
        self, event: Delivered[AmendmentSignatureRecorded], uow: UnitOfWork
    ) -> None:
        """To the contractor: the client signed, your turn (as ``client_signed``)."""
        p = event.payload
        data = {**self.flows.contract(p), "number": p.amendment}
        sides = {"contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.amendment-client-signed", data, uow)

    async def amendment_declined(
        self, event: Delivered[AmendmentDeclined], uow: UnitOfWork
    ) -> None:
        """To the other party: the one who declined knows. The client's side
        is the contract's client user, as in every client-side notice."""
        p = event.payload
        other = (
            {"contractor": p.contractor_user_id}
            if p.declined_by_role == "client"
            else {"client": p.client_user_id}
        )
        data = {**self.flows.contract(p), "number": p.amendment, "reason": p.reason}
        await self._to(event, other, "contract.amendment-declined", data, uow)

    async def amendment_withdrawn(
        self, event: Delivered[AmendmentWithdrawn], uow: UnitOfWork
    ) -> None:
        """To the contractor, signed by the client or not: they were told at the proposal."""
        p = event.payload
        data = {
            **self.flows.contract(p),
            "number": p.number,
            "reason": p.reason,
            "clientSigned": p.client_signed,
        }
        sides = {"contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.amendment-withdrawn", data, uow)

    async def amended(self, event: Delivered[ContractAmended], uow: UnitOfWork) -> None:
        p = event.payload
        data = {
            **self.flows.contract(p),
            "number": p.number,
            "amendedAt": format_when(p.amended_at),
            "total": format_money(p.total_minor, p.currency),
            "previousTotal": format_money(p.previous_total_minor, p.currency),
            "added": len(p.added_item_ids),
            "removed": len(p.removed_item_ids),
        }
        sides = {"client": p.client_user_id, "contractor": p.contractor_user_id}
        await self._to(event, sides, "contract.amended", data, uow)
