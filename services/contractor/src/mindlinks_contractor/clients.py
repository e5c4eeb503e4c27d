"""Typed calls to the contractor service's peers (through ``runtime.peers``:
service token, the user's token beside it, deadline, retries, breaker)."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from mindlinks_contractor.domain import (
    Account,
    CompanyNotActive,
    EmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    InvitationUsed,
    Redeemed,
)
from mindlinks_fleet.internal import auth
from mindlinks_kit.errors import Problem
from mindlinks_kit.http import Peers, refusal


class _Tolerant(BaseModel):
    """A tolerant reader of a peer's camelCase answer: only what we use."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel)


class _Redeemed(_Tolerant):
    invitation_id: str
    company_id: str
    company_name: str
    invited_by_user_id: str
    accepted_at: str
    replayed: bool = False


class _Company(_Tolerant):
    id: str


_REDEEM_REFUSALS: dict[str, type[Problem]] = {
    "invitation-not-found": InvitationNotFound,
    "invitation-used": InvitationUsed,
    "invitation-already-accepted": InvitationUsed,
    "invitation-revoked": InvitationRevoked,
    "invitation-expired": InvitationExpired,
    "invitation-email-mismatch": EmailMismatch,
    "company-not-active": CompanyNotActive,
    "not-found": InvitationNotFound,
}
_BY_STATUS: dict[int, type[Problem]] = {
    404: InvitationNotFound,
    409: InvitationUsed,
    410: InvitationExpired,
    403: EmailMismatch,
}


class AuthAccounts:
    """auth: ``GET /internal/auth/users/{id}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def account(self, user_id: str) -> Account | None:
        user = await self.peers.call(auth.USER, user_id)
        return Account(email=user.email, name=user.name) if user is not None else None


class ClientCompanies:
    """client: invitations redeemed, companies by owner."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def redeem(
        self, token: str, *, contractor_id: str, user_id: str, email: str, name: str
    ) -> Redeemed:
        """Redeem once; the client service answers the same contractor's repeat
        as a replay, so the peer client may retry it (idempotency key)."""
        digest = hashlib.sha256(token.encode()).hexdigest()[:32]
        response = await self.peers.request(
            "client",
            "POST",
            "/internal/clients/invitations/redeem",
            json={
                "token": token,
                "contractorId": contractor_id,
                "userId": user_id,
                "email": email,
                "name": name,
            },
            idempotency_key=f"redeem:{contractor_id}:{digest}",
        )
        if response.status_code == 200:
            body = _Redeemed.model_validate(response.json())
            return Redeemed(
                invitation_id=body.invitation_id,
                company_id=body.company_id,
                company_name=body.company_name,
                invited_by_user_id=body.invited_by_user_id,
                accepted_at=body.accepted_at,
                replayed=body.replayed,
            )
        refused = _refusal(response)
        if refused is None:
            raise refusal("client", response)
        raise refused()

    async def company_of_owner(self, user_id: str) -> str | None:
        response = await self.peers.request(
            "client", "GET", f"/internal/clients/companies/by-owner/{quote(user_id, safe='')}"
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("client", response)
        return _Company.model_validate(response.json()).id


def _refusal(response: httpx.Response) -> type[Problem] | None:
    """The client service's refusal, as our own problem (same code)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code = str(body.get("code")) if isinstance(body, dict) else ""
    return _REDEEM_REFUSALS.get(code) or _BY_STATUS.get(response.status_code)
