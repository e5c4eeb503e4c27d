"""Typed calls to the internal routes of docs/admin.md, one class per peer.

Records are passed through as the peers answer them (the admin is a tolerant
reader); a 404 that means "there is none" is ``None``, every other refusal is
a ``PeerAnswer`` and a peer that is down raises the kit's ``PeerUnavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from mindlinks_admin.peers import Record, read_page, read_record
from mindlinks_fleet.internal import contract, kyc, ledger, payment, signature
from mindlinks_fleet.internal.contract import AdminVoidIn
from mindlinks_fleet.internal.kyc import AdminDecision
from mindlinks_fleet.internal.payment import FlagRequest
from mindlinks_kit.http import Peers
from mindlinks_kit.schemas import Page as KitPage

Page = tuple[list[Record], str | None]
VERIFY_TIMEOUT = 30.0
"""Seconds the ledger may take to verify the whole journal."""


def _segment(value: str) -> str:
    return quote(value, safe="")


def _query(**params: Any) -> dict[str, Any]:
    """Query parameters that were given (camelCase names as on the wire)."""
    return {k: v for k, v in params.items() if v is not None}


class _Peer:
    service: str

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def _page(self, path: str, params: Mapping[str, Any]) -> Page:
        response = await self.peers.request(self.service, "GET", path, params=params)
        return read_page(self.service, response)

    async def _get(self, path: str, *, missing: bool = False) -> Record | None:
        response = await self.peers.request(self.service, "GET", path)
        return read_record(self.service, response, missing=missing)

    async def _one(self, path: str) -> Record:
        """One record; a 404 is the peer's refusal (``PeerAnswer``), not ``None``."""
        record = await self._get(path)
        assert record is not None  # read_record answers None only for an allowed 404
        return record

    async def _post(self, path: str, body: Mapping[str, Any]) -> Record:
        response = await self.peers.request(self.service, "POST", path, json=dict(body))
        record = read_record(self.service, response)
        assert record is not None  # read_record answers None only for an allowed 404
        return record


class Accounts(_Peer):
    service = "auth"

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
        return await self._page("/internal/auth/users", params)

    async def get(self, user_id: str) -> Record | None:
        return await self._get(f"/internal/auth/users/{_segment(user_id)}", missing=True)

    async def suspend(self, user_id: str, reason: str) -> Record:
        return await self._post(
            f"/internal/auth/users/{_segment(user_id)}/suspend", {"reason": reason}
        )

    async def unsuspend(self, user_id: str, reason: str) -> Record:
        return await self._post(
            f"/internal/auth/users/{_segment(user_id)}/unsuspend", {"reason": reason}
        )


class Profiles(_Peer):
    service = "user"

    async def get(self, user_id: str) -> Record | None:
        return await self._get(f"/internal/users/{_segment(user_id)}", missing=True)


class Companies(_Peer):
    service = "client"

    async def page(self, *, status: str | None, limit: int, cursor: str | None) -> Page:
        params = _query(status=status, limit=limit, cursor=cursor)
        return await self._page("/internal/clients/companies", params)

    async def get(self, company_id: str) -> Record | None:
        return await self._get(f"/internal/clients/companies/{_segment(company_id)}", missing=True)

    async def by_owner(self, user_id: str) -> Record | None:
        path = f"/internal/clients/companies/by-owner/{_segment(user_id)}"
        return await self._get(path, missing=True)

    async def review(self, company_id: str, decision: str, reason: str | None, by: str) -> Record:
        return await self._post(
            f"/internal/clients/companies/{_segment(company_id)}/review",
            _query(decision=decision, reason=reason, decidedBy=by),
        )

    async def revoke(self, company_id: str, reason: str, by: str) -> Record:
        return await self._post(
            f"/internal/clients/companies/{_segment(company_id)}/revoke",
            _query(reason=reason, decidedBy=by),
        )


class Contractors(_Peer):
    service = "contractor"

    async def page(self, *, kyc_status: str | None, limit: int, cursor: str | None) -> Page:
        params = _query(kycStatus=kyc_status, limit=limit, cursor=cursor)
        return await self._page("/internal/contractors", params)

    async def get(self, contractor_id: str) -> Record | None:
        return await self._get(f"/internal/contractors/{_segment(contractor_id)}", missing=True)

    async def by_user(self, user_id: str) -> Record | None:
        return await self._get(f"/internal/contractors/by-user/{_segment(user_id)}", missing=True)


def _record(answer: BaseModel) -> Record:
    """A declared answer as the admin passes it on (the peer's JSON)."""
    return answer.model_dump(mode="json", by_alias=True)


def _records(page: KitPage[Any]) -> Page:
    return [_record(i) for i in page.items], page.next_cursor


class Kyc(_Peer):
    service = "kyc"

    async def review_queue(self, *, limit: int, cursor: str | None) -> Page:
        params = _query(limit=limit, cursor=cursor)
        return _records(await self.peers.call(kyc.REVIEW_QUEUE, params=params))

    async def sessions(self, contractor_id: str, *, limit: int = 20) -> Page:
        params = _query(contractorId=contractor_id, limit=limit)
        return _records(await self.peers.call(kyc.SESSIONS, params=params))

    async def session(self, session_id: str) -> Record:
        found = await self.peers.call(kyc.SESSION, session_id)
        return _record(found)

    async def decide(self, session_id: str, decision: str, reason: str, by: str) -> Record:
        body = AdminDecision.model_validate(
            {"decision": decision, "reason": reason, "decided_by": by}
        )
        decided = await self.peers.call(kyc.DECISION, session_id, body=body)
        return _record(decided)


class Contracts(_Peer):
    service = "contract"

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
        return _records(await self.peers.call(contract.CONTRACTS, params=params))

    async def get(self, contract_id: str) -> Record | None:
        found = await self.peers.call(contract.CONTRACT, contract_id)
        return None if found is None else _record(found)

    async def void(self, contract_id: str, reason: str, actor_user_id: str) -> Record:
        body = AdminVoidIn(reason=reason, actor_user_id=actor_user_id)
        voided = await self.peers.call(contract.VOID, contract_id, body=body)
        return _record(voided)


class Signatures(_Peer):
    service = "signature"

    async def of_contract(self, contract_id: str) -> Page:
        params = {"contractId": contract_id, "limit": 100}
        return _records(await self.peers.call(signature.SIGNATURES, params=params))


class Ledger(_Peer):
    service = "ledger"

    async def history(self, subject: str) -> Page:
        return _records(await self.peers.call(ledger.SUBJECT, subject, params={"limit": 100}))

    async def verify(self) -> Record:
        """The whole journal re-hashed: allowed longer than an ordinary call."""
        verified = await self.peers.call(ledger.VERIFY, timeout=VERIFY_TIMEOUT)
        return _record(verified)


class Payments(_Peer):
    service = "payment"

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
        return _records(await self.peers.call(payment.TRANSACTIONS, params=params))

    async def escrow(
        self, *, state: str | None, contract_id: str | None, limit: int, cursor: str | None
    ) -> Page:
        params = _query(state=state, contractId=contract_id, limit=limit, cursor=cursor)
        return _records(await self.peers.call(payment.ESCROW, params=params))

    async def transaction(self, transaction_id: str) -> Record:
        found = await self.peers.call(payment.TRANSACTION, transaction_id)
        return _record(found)

    async def flag(self, transaction_id: str, reason: str, by: str) -> Record:
        body = FlagRequest(reason=reason, flagged_by=by)
        flagged = await self.peers.call(payment.FLAG, transaction_id, body=body)
        return _record(flagged)
