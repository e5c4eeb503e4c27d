"""Typed calls to the internal routes of docs/admin.md, one class per peer.

Each call is a declared internal route (``mindlinks_fleet.internal``); its
answer, read as the declared model, is passed on as the record the peer sent.
A 404 that means "there is none" is ``None``, every other refusal is a
``PeerAnswer`` (the admin's ``peers.refusal``) and a peer that is down raises
the kit's ``PeerUnavailable``.
"""

from __future__ import annotations

from typing import Any

from mindlinks_admin.peers import Record, page_of, record_of
from mindlinks_fleet.internal import (
    auth,
    client,
    contract,
    contractor,
    kyc,
    ledger,
    payment,
    signature,
    user,
)
from mindlinks_fleet.internal.client import BackfillMembers, ReviewCompany, RevokeCompany
from mindlinks_fleet.internal.contract import AdminVoidIn
from mindlinks_fleet.internal.kyc import AdminDecision
from mindlinks_fleet.internal.payment import FlagRequest, ResolutionRequest
from mindlinks_kit.http import Peers

Page = tuple[list[Record], str | None]
VERIFY_TIMEOUT = 30.0
"""Seconds the ledger may take to verify the whole journal."""


def _query(**params: Any) -> dict[str, Any]:
    """Query parameters that were given (camelCase names as on the wire)."""
    return {k: v for k, v in params.items() if v is not None}


class _Peer:
    def __init__(self, peers: Peers) -> None:
        self.peers = peers


class Accounts(_Peer):
    async def search(
        self,
        *,
        email: str | None,
        role: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        params = _query(email=email, role=role, status=status, limit=limit, cursor=cursor)
        return page_of(await self.peers.call(auth.USERS, params=params))

    async def get(self, user_id: str) -> Record | None:
        found = await self.peers.call(auth.USER, user_id)
        return record_of(found) if found is not None else None

    async def suspend(self, user_id: str, reason: str) -> Record:
        body = auth.SuspendRequest(reason=reason)
        suspended = await self.peers.call(auth.SUSPEND, user_id, body=body)
        return record_of(suspended)

    async def unsuspend(self, user_id: str, reason: str) -> Record:
        """The reason is the admin's to audit: auth's route takes none."""
        unsuspended = await self.peers.call(auth.UNSUSPEND, user_id)
        return record_of(unsuspended)


class Profiles(_Peer):
    async def get(self, user_id: str) -> Record | None:
        profile = await self.peers.call(user.PROFILE, user_id)
        return None if profile is None else record_of(profile)


class Companies(_Peer):
    async def page(self, *, status: str | None, limit: int, cursor: str | None) -> Page:
        params = _query(status=status, limit=limit, cursor=cursor)
        page = await self.peers.call(client.COMPANIES, params=params)
        return page_of(page)

    async def get(self, company_id: str) -> Record | None:
        company = await self.peers.call(client.COMPANY, company_id)
        return None if company is None else record_of(company)

    async def by_owner(self, user_id: str) -> Record | None:
        company = await self.peers.call(client.COMPANY_BY_OWNER, user_id)
        return None if company is None else record_of(company)

    async def review(self, company_id: str, decision: str, reason: str | None, by: str) -> Record:
        body = ReviewCompany.model_validate(_query(decision=decision, reason=reason, decidedBy=by))
        company = await self.peers.call(client.REVIEW, company_id, body=body)
        return record_of(company)

    async def revoke(self, company_id: str, reason: str, by: str) -> Record:
        body = RevokeCompany(reason=reason, decided_by=by)
        company = await self.peers.call(client.REVOKE, company_id, body=body)
        return record_of(company)

    async def backfill_members(self, limit: int, cursor: str | None) -> Record:
        body = BackfillMembers(limit=limit, cursor=cursor)
        done = await self.peers.call(client.BACKFILL_MEMBERS, body=body)
        return record_of(done)


class Contractors(_Peer):
    async def page(self, *, kyc_status: str | None, limit: int, cursor: str | None) -> Page:
        params = _query(kycStatus=kyc_status, limit=limit, cursor=cursor)
        page = await self.peers.call(contractor.CONTRACTORS, params=params)
        return page_of(page)

    async def get(self, contractor_id: str) -> Record | None:
        found = await self.peers.call(contractor.CONTRACTOR, contractor_id)
        return None if found is None else record_of(found)

    async def by_user(self, user_id: str) -> Record | None:
        found = await self.peers.call(contractor.CONTRACTOR_BY_USER, user_id)
        return None if found is None else record_of(found)


class Kyc(_Peer):
    async def review_queue(self, *, limit: int, cursor: str | None) -> Page:
        params = _query(limit=limit, cursor=cursor)
        return page_of(await self.peers.call(kyc.REVIEW_QUEUE, params=params))

    async def sessions(self, contractor_id: str, *, limit: int = 20) -> Page:
        params = _query(contractorId=contractor_id, limit=limit)
        return page_of(await self.peers.call(kyc.SESSIONS, params=params))

    async def session(self, session_id: str) -> Record:
        found = await self.peers.call(kyc.SESSION, session_id)
        return record_of(found)

    async def decide(self, session_id: str, decision: str, reason: str, by: str) -> Record:
        body = AdminDecision.model_validate(
            {"decision": decision, "reason": reason, "decided_by": by}
        )
        decided = await self.peers.call(kyc.DECISION, session_id, body=body)
        return record_of(decided)


class Contracts(_Peer):
    async def page(
        self,
        *,
        status: str | None = None,
        company_id: str | None = None,
        contractor_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        params = _query(
            status=status,
            companyId=company_id,
            contractorId=contractor_id,
            limit=limit,
            cursor=cursor,
        )
        return page_of(await self.peers.call(contract.CONTRACTS, params=params))

    async def get(self, contract_id: str) -> Record | None:
        found = await self.peers.call(contract.CONTRACT, contract_id)
        return None if found is None else record_of(found)

    async def void(self, contract_id: str, reason: str, actor_user_id: str) -> Record:
        body = AdminVoidIn(reason=reason, actor_user_id=actor_user_id)
        voided = await self.peers.call(contract.VOID, contract_id, body=body)
        return record_of(voided)


class Signatures(_Peer):
    async def of_contract(self, contract_id: str) -> Page:
        params = {"contractId": contract_id, "limit": 100}
        return page_of(await self.peers.call(signature.SIGNATURES, params=params))


class Ledger(_Peer):
    async def history(self, subject: str) -> Page:
        return page_of(await self.peers.call(ledger.SUBJECT, subject, params={"limit": 100}))

    async def verify(self) -> Record:
        """The whole journal re-hashed: allowed longer than an ordinary call."""
        verified = await self.peers.call(ledger.VERIFY, timeout=VERIFY_TIMEOUT)
        return record_of(verified)


class Payments(_Peer):
    async def transactions(
        self,
        *,
        status: str | None,
        contract_id: str | None,
        stuck: bool | None,
        older_than_minutes: int | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        params = _query(
            status=status,
            contractId=contract_id,
            stuck=None if stuck is None else str(stuck).lower(),
            olderThanMinutes=older_than_minutes,
            limit=limit,
            cursor=cursor,
        )
        return page_of(await self.peers.call(payment.TRANSACTIONS, params=params))

    async def escrow(
        self, *, state: str | None, contract_id: str | None, limit: int, cursor: str | None
    ) -> Page:
        params = _query(state=state, contractId=contract_id, limit=limit, cursor=cursor)
        return page_of(await self.peers.call(payment.ESCROW, params=params))

    async def transaction(self, transaction_id: str) -> Record:
        found = await self.peers.call(payment.TRANSACTION, transaction_id)
        return record_of(found)

    async def flag(self, transaction_id: str, reason: str, by: str) -> Record:
        body = FlagRequest(reason=reason, flagged_by=by)
        flagged = await self.peers.call(payment.FLAG, transaction_id, body=body)
        return record_of(flagged)

    async def escrow_item(self, escrow_id: str) -> Record:
        """One item with its history (an unknown one is payment's 404)."""
        found = await self.peers.call(payment.ESCROW_DETAIL, escrow_id)
        return record_of(found)

    async def resolve(
        self, escrow_id: str, outcome: str, released_minor: int | None, note: str, by: str
    ) -> Record:
        body = ResolutionRequest.model_validate(
            {"outcome": outcome, "releasedMinor": released_minor, "note": note, "resolvedBy": by}
        )
        resolved = await self.peers.call(payment.RESOLVE, escrow_id, body=body)
        return record_of(resolved)
