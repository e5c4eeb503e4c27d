"""The contractor use cases: onboarding through an invitation (the profile on
the first one, an engagement with each company), who may see a contractor,
the owner's edits with optimistic locking, and KYC decisions.

No FastAPI here; routes and the consumer commit the unit of work, never this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

import structlog

from mindlinks_contractor.domain import (
    EDITABLE,
    LOCKED_DETAIL,
    Account,
    AccountNotFound,
    ContractorNotFound,
    ContractorNotOnboarded,
    Engagement,
    LegalNameLocked,
    Onboarded,
    Profile,
    Visible,
    contractor_id_for,
)
from mindlinks_fleet.events import ContractorCreated, InvitationAccepted, KycDecided
from mindlinks_fleet.internal.client import Redeemed
from mindlinks_fleet.internal.contractor import KycStatus
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, UnitOfWork
from mindlinks_kit.revisions import revise
from mindlinks_kit.runtime import Publish

log = structlog.get_logger("mindlinks.contractors")


class Accounts(Protocol):
    async def account(self, user_id: str) -> Account | None: ...


class Clients(Protocol):
    async def redeem(
        self, token: str, *, contractor_id: str, user_id: str, email: str, name: str
    ) -> Redeemed: ...


class Store(Protocol):
    async def profile(self, contractor_id: str) -> Profile | None: ...
    def add_profile(self, uow: UnitOfWork, profile: Profile) -> None: ...
    def replace_profile(
        self, uow: UnitOfWork, profile: Profile, *, expected_version: int
    ) -> None: ...
    async def engagement(self, contractor_id: str, company_id: str) -> Engagement | None: ...
    def add_engagement(self, uow: UnitOfWork, engagement: Engagement) -> None: ...
    async def engagements(
        self, contractor_id: str, limit: int, start: Item | None
    ) -> tuple[list[Engagement], Item | None]: ...
    async def company_ids(self, contractor_id: str) -> list[str]: ...
    async def profile_page(
        self, kyc_status: KycStatus | None, limit: int, start: Item | None
    ) -> tuple[list[Profile], Item | None]: ...


class Contractors:
    def __init__(
        self,
        store: Store,
        accounts: Accounts,
        clients: Clients,
        publish: Publish,
        cursors: CursorCodec,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.clients = clients
        self.publish = publish
        self.cursors = cursors

    async def accept_invitation(self, user_id: str, token: str, uow: UnitOfWork) -> Onboarded:
        """Redeem the token at the client service, then (in ``uow``) the
        profile on first onboarding, the engagement and their events. Retrying
        after a failed commit is safe: the contractor id is derived from the
        user, and the client service answers the same contractor's second
        redemption as a replay."""
        contractor_id = contractor_id_for(user_id)
        profile = await self.store.profile(contractor_id)
        account = await self.accounts.account(user_id)
        if account is None:
            raise AccountNotFound()
        redeemed = await self.clients.redeem(
            token,
            contractor_id=contractor_id,
            user_id=user_id,
            email=account.email,
            name=profile.name if profile else account.name,
        )
        existing = await self.store.engagement(contractor_id, redeemed.company_id)
        if profile is not None and existing is not None:
            return Onboarded(profile, existing, first=False)  # nothing left to record
        first = profile is None
        if profile is None:
            at = now_iso()
            profile = Profile(
                id=contractor_id,
                user_id=user_id,
                name=account.name,
                email=account.email,
                created_at=at,
                updated_at=at,
            )
            self.store.add_profile(uow, profile)
            self.publish(
                uow,
                "contractor.created",
                ContractorCreated(
                    contractor_id=contractor_id,
                    user_id=user_id,
                    email=profile.email,
                    name=profile.name,
                ),
            )
        engagement = existing or Engagement(
            contractor_id=contractor_id,
            company_id=redeemed.company_id,
            company_name=redeemed.company_name,
            invitation_id=redeemed.invitation_id,
            since=redeemed.accepted_at,
        )
        if existing is None:
            self.store.add_engagement(uow, engagement)
        self.publish(
            uow,
            "invitation.accepted",
            InvitationAccepted(
                invitation_id=redeemed.invitation_id,
                company_id=redeemed.company_id,
                contractor_id=contractor_id,
                contractor_user_id=user_id,
                invited_by_user_id=redeemed.invited_by_user_id,
            ),
        )
        return Onboarded(profile, engagement, first=first)

    async def own(self, user_id: str) -> Profile:
        profile = await self.store.profile(contractor_id_for(user_id))
        if profile is None:
            raise ContractorNotOnboarded()
        return profile

    async def get(self, contractor_id: str) -> Profile:
        profile = await self.store.profile(contractor_id)
        if profile is None:
            raise ContractorNotFound()
        return profile

    async def by_user(self, user_id: str) -> Profile:
        return await self.get(contractor_id_for(user_id))

    async def visible(
        self, contractor_id: str, caller_id: str, caller_role: str, company_id: str | None
    ) -> Visible:
        """The contractor themself, an admin, or a member of a company engaged
        with them (``company_id``, the company they act for); anyone else
        learns nothing, not even that they exist."""
        if caller_role == "contractor" and contractor_id == contractor_id_for(caller_id):
            return Visible(await self.get(contractor_id), private=True)
        if caller_role == "admin":
            return Visible(await self.get(contractor_id), private=True)
        if company_id is not None and await self.store.engagement(contractor_id, company_id):
            return Visible(await self.get(contractor_id), private=False)
        raise ContractorNotFound()

    async def update(
        self,
        user_id: str,
        changes: Mapping[str, Any],
        expected_version: int,
        uow: UnitOfWork,
    ) -> Profile:
        current = await self.own(user_id)
        updated = revise(
            current, changes, editable=EDITABLE, expected_version=expected_version, noun="profile"
        )
        if updated is None:
            return current
        if current.name_locked and updated.name != current.name:
            # Refused rather than un-verifying: a rename must not silently drop
            # KYC (nor leave kyc and contractor disagreeing); see the README.
            raise LegalNameLocked(LOCKED_DETAIL)
        self.store.replace_profile(uow, updated, expected_version=current.version)
        return updated

    async def engagements(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Engagement], str | None]:
        profile = await self.own(user_id)
        scope = f"engagements:{profile.id}"
        items, last = await self.store.engagements(
            profile.id, limit, self.cursors.decode(cursor, scope)
        )
        return items, self.cursors.encode(last, scope)

    async def company_ids(self, contractor_id: str) -> list[str]:
        return await self.store.company_ids(contractor_id)

    async def page(
        self, kyc_status: KycStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Profile], str | None]:
        """Contractors for operators: of one KYC status newest first, or all."""
        scope = f"contractors:kycStatus={kyc_status or ''}"
        items, last = await self.store.profile_page(
            kyc_status, limit, self.cursors.decode(cursor, scope)
        )
        return items, self.cursors.encode(last, scope)

    async def kyc_decided(
        self, decision: KycDecided, status: KycStatus, decided_at: str, uow: UnitOfWork
    ) -> None:
        """Record a KYC decision; an older decision arriving late changes nothing.
        A verification sets the legal name to the one it established (the
        document's, or the name the session was opened with — not whatever the
        profile was renamed to meanwhile) and locks it; a rejection unlocks it."""
        profile = await self.store.profile(decision.contractor_id)
        if profile is None:
            log.warning("kyc.unknown_contractor", contractor_id=decision.contractor_id)
            return
        if profile.kyc_decided_at is not None and profile.kyc_decided_at > decided_at:
            log.info("kyc.stale_decision", contractor_id=profile.id, session=decision.session_id)
            return
        verified = None
        if status == "verified":
            # Older producers send no name: the legal name at verification time.
            verified = decision.verified_legal_name or profile.name
        updated = replace(
            profile,
            name=verified or profile.name,
            verified_legal_name=verified,
            kyc_status=status,
            kyc_decided_at=decided_at,
            kyc_reason=decision.reason,
            kyc_session_id=decision.session_id,
            updated_at=now_iso(),
            version=profile.version + 1,
        )
        self.store.replace_profile(uow, updated, expected_version=profile.version)
