"""Lifecycle events → notifications: who hears about what, on which
channels, under which opt-out category.

Recipients are user ids; their address, name and opt-ins come from the user
service (``People``), all of one event's recipients in one call. Each (event,
recipient) pair is one notification whose id is derived from the event id,
so a redelivered event neither mails twice (the email is claimed in Redis)
nor lists twice (the in-app item is a conditional create committed with the
consumer's inbox record). A recipient
the user service does not know is skipped (logged), never retried forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import structlog

from mindlinks_fleet.events import (
    CompanyClaimContested,
    CompanyReviewed,
    ContractActivated,
    ContractParties,
    InvitationAccepted,
    InvitationCreated,
    KycDecided,
    PaymentConfirmed,
    PaymentReleased,
    SignatureCompleted,
    SignatureRecorded,
)
from mindlinks_fleet.internal.notification import Category
from mindlinks_fleet.money import format_money
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.observability import Metrics
from mindlinks_notification.domain import Addressee, Recipient, SendRequest
from mindlinks_notification.service.notifier import Notifier

log = structlog.get_logger("mindlinks.notifications.flows")
BOTH: tuple[str, ...] = ("email", "inApp")


class People(Protocol):
    async def addressees(self, user_ids: Sequence[str]) -> Mapping[str, Addressee]: ...


class EventNotifications:
    def __init__(self, notifier: Notifier, people: People, base_url: str, metrics: Metrics) -> None:
        self.notifier = notifier
        self.people = people
        self.base_url = base_url.rstrip("/")
        self.metrics = metrics

    def handlers(self) -> dict[str, Handler]:
        return {
            "company.reviewed": self.company_reviewed,
            "company.claim-contested": self.company_claim_contested,
            "invitation.created": self.invitation_created,
            "invitation.accepted": self.invitation_accepted,
            "kyc.verified": self.kyc_verified,
            "kyc.rejected": self.kyc_rejected,
            "contract.sent-for-signature": self.contract_sent,
            "signature.client-signed": self.client_signed,
            "signature.completed": self.signature_completed,
            "ledger.contract-activated": self.contract_activated,
            "payment.confirmed": self.payment_confirmed,
            "payment.released": self.payment_released,
        }

    async def notify(
        self,
        event: Delivered[Any],
        user_id: str,
        template: str,
        data: Mapping[str, Any],
        category: Category,
        uow: UnitOfWork,
        channels: tuple[str, ...] = BOTH,
        essential: bool = False,
        known: Mapping[str, Addressee] | None = None,
    ) -> bool:
        """One notification of ``event`` to one user; False when the user is
        unknown. ``known``: the event's recipients, read together beforehand."""
        found = known if known is not None else await self.people.addressees([user_id])
        addressee = found.get(user_id)
        if addressee is None:
            log.warning("notification.unknown_recipient", event_name=event.name, user_id=user_id)
            self.metrics.count("NotificationsUnknownRecipient", event=event.name)
            return False
        contact = addressee.contact
        await self.notifier.send(
            SendRequest(
                template=template,
                recipient=Recipient(email=contact.email, name=contact.name, user_id=user_id),
                origin=f"event:{event.name}",
                dedupe_key=f"{event.id}:{user_id}",
                data={"name": contact.name, **data},
                category=category,
                channels=channels,
                essential=essential,
            ),
            uow,
            addressee,
        )
        return True

    def contract_url(self, contract_id: str) -> str:
        return f"{self.base_url}/contracts/{contract_id}"

    def contract(self, parties: ContractParties) -> dict[str, Any]:
        return {"title": parties.title, "contractUrl": self.contract_url(parties.contract_id)}

    async def _both(
        self,
        event: Delivered[Any],
        client_user_id: str,
        contractor_user_id: str,
        template: str,
        data: Mapping[str, Any],
        category: Category,
        uow: UnitOfWork,
    ) -> None:
        known = await self.people.addressees([client_user_id, contractor_user_id])
        for role, user_id in (("client", client_user_id), ("contractor", contractor_user_id)):
            data_for = {**data, "role": role}
            await self.notify(event, user_id, template, data_for, category, uow, known=known)

    # clients and contractors ---------------------------------------------------

    async def company_reviewed(self, event: Delivered[CompanyReviewed], uow: UnitOfWork) -> None:
        """To the company's owner: an admin approved the company held for
        review (it may invite now), or rejected it, with the reason."""
        p = event.payload
        data: dict[str, Any] = {"companyName": p.legal_name, "dashboardUrl": self.base_url}
        if p.decision == "approved":
            template = "company.approved"
        else:
            template, data["reason"] = "company.rejected", p.reason
        await self.notify(event, p.owner_user_id, template, data, "productUpdates", uow)

    async def company_claim_contested(
        self, event: Delivered[CompanyClaimContested], uow: UnitOfWork
    ) -> None:
        """To the active company's owner: another account claimed its registry
        number (held for review). A security notice: no opt-out; the
        claimant is not named."""
        p = event.payload
        data = {
            "companyName": p.legal_name,
            "companyNumber": f"{p.jurisdiction_code.upper()} {p.company_number}",
            "dashboardUrl": self.base_url,
        }
        await self.notify(
            event,
            p.owner_user_id,
            "company.claim-contested",
            data,
            "productUpdates",
            uow,
            essential=True,
        )

    async def invitation_created(
        self, event: Delivered[InvitationCreated], uow: UnitOfWork
    ) -> None:
        """In the app, to the client who invited: who was invited, until when."""
        p = event.payload
        data = {"email": p.email, "companyName": p.company_name, "expiresAt": p.expires_at}
        await self.notify(
            event,
            p.invited_by_user_id,
            "client.invitation-sent",
            data,
            "productUpdates",
            uow,
            channels=("inApp",),
        )

    async def invitation_accepted(
        self, event: Delivered[InvitationAccepted], uow: UnitOfWork
    ) -> None:
        """To the client who invited: who joined."""
        p = event.payload
        known = await self.people.addressees([p.contractor_user_id, p.invited_by_user_id])
        joined = known[p.contractor_user_id].contact if p.contractor_user_id in known else None
        data = {
            "contractorName": joined.name if joined else "Your invited contractor",
            "contractorEmail": joined.email if joined else "",
            "contractorUrl": f"{self.base_url}/contractors/{p.contractor_id}",
        }
        await self.notify(
            event,
            p.invited_by_user_id,
            "client.contractor-joined",
            data,
            "productUpdates",
            uow,
            known=known,
        )

    async def kyc_verified(self, event: Delivered[KycDecided], uow: UnitOfWork) -> None:
        data = {"dashboardUrl": self.base_url}
        await self.notify(event, event.payload.user_id, "kyc.verified", data, "productUpdates", uow)

    async def kyc_rejected(self, event: Delivered[KycDecided], uow: UnitOfWork) -> None:
        data = {"dashboardUrl": self.base_url, "reason": event.payload.reason}
        await self.notify(event, event.payload.user_id, "kyc.rejected", data, "productUpdates", uow)

    # contracts -----------------------------------------------------------------

    async def contract_sent(self, event: Delivered[ContractParties], uow: UnitOfWork) -> None:
        """To the contractor: please review and sign."""
        p = event.payload
        await self.notify(
            event,
            p.contractor_user_id,
            "contract.sign-requested",
            self.contract(p),
            "contractUpdates",
            uow,
        )

    async def client_signed(self, event: Delivered[SignatureRecorded], uow: UnitOfWork) -> None:
        """To the contractor: the client signed, your turn."""
        p = event.payload
        await self.notify(
            event,
            p.contractor_user_id,
            "contract.client-signed",
            self.contract(p),
            "contractUpdates",
            uow,
        )

    async def signature_completed(
        self, event: Delivered[SignatureCompleted], uow: UnitOfWork
    ) -> None:
        p = event.payload
        await self._both(
            event,
            p.client_user_id,
            p.contractor_user_id,
            "contract.fully-signed",
            self.contract(p),
            "contractUpdates",
            uow,
        )

    async def contract_activated(
        self, event: Delivered[ContractActivated], uow: UnitOfWork
    ) -> None:
        p = event.payload
        total = sum(item.amount_minor for item in p.schedule)
        data = {
            **self.contract(p),
            "total": format_money(total, p.currency),
            "payments": len(p.schedule),
        }
        await self._both(
            event,
            p.client_user_id,
            p.contractor_user_id,
            "contract.activated",
            data,
            "contractUpdates",
            uow,
        )

    # payments ------------------------------------------------------------------

    async def payment_confirmed(self, event: Delivered[PaymentConfirmed], uow: UnitOfWork) -> None:
        """Both parties: the payment is funded and held in escrow."""
        p = event.payload
        data = {
            "amount": format_money(p.amount_minor, p.currency),
            "contractUrl": self.contract_url(p.contract_id),
        }
        await self._both(
            event,
            p.client_user_id,
            p.contractor_user_id,
            "payment.funded",
            data,
            "paymentUpdates",
            uow,
        )

    async def payment_released(self, event: Delivered[PaymentReleased], uow: UnitOfWork) -> None:
        """Both parties: the escrowed payment went to the contractor, and how
        (approved, released on its own, agreed, an admin's resolution)."""
        p = event.payload
        data = {
            "amount": format_money(p.amount_minor, p.currency),
            "contractUrl": self.contract_url(p.contract_id),
            "allReleased": p.all_released,
            "reason": p.reason,
        }
        await self._both(
            event,
            p.client_user_id,
            p.contractor_user_id,
            "payment.released",
            data,
            "paymentUpdates",
            uow,
        )
