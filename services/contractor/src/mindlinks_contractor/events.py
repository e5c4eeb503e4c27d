"""Events in and out of the contractor service.

Publishes (through the outbox, in the change's own transaction; see
``domain.Contractors.accept_invitation``): ``invitation.accepted`` for every
accepted invitation and ``contractor.created`` on the first one.

Consumes ``kyc.verified`` / ``kyc.rejected`` → the profile's ``kycStatus``
(``verified``/``rejected``), ``kycDecidedAt`` (the event's time) and
``kycReason``, in the consumer's transaction with its inbox record; an older
decision delivered after a newer one changes nothing.
"""

from __future__ import annotations

from mindlinks_contractor.deps import ContractorDeps
from mindlinks_fleet.events import KycDecided
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered


def handlers(deps: ContractorDeps) -> dict[str, Handler]:
    contractors = deps.contractors

    async def on_verified(event: Delivered[KycDecided], uow: UnitOfWork) -> None:
        await contractors.kyc_decided(event.payload, "verified", event.detail.occurred_at, uow)

    async def on_rejected(event: Delivered[KycDecided], uow: UnitOfWork) -> None:
        await contractors.kyc_decided(event.payload, "rejected", event.detail.occurred_at, uow)

    # Both read the profile and replace it through the unit of work.
    return {"kyc.verified": replay_safe(on_verified), "kyc.rejected": replay_safe(on_rejected)}
