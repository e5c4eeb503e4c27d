"""Typed calls to the contractor service's peers (through ``runtime.peers``:
service token, the user's token beside it, deadline, retries, breaker)."""

from __future__ import annotations

import hashlib

from mindlinks_contractor.domain import Account
from mindlinks_fleet.internal import auth, client
from mindlinks_fleet.internal.client import (
    InvitationAccepted,
    InvitationUsed,
    Redeemed,
    RedeemInvitation,
)
from mindlinks_kit.http import Peers


class AuthAccounts:
    """auth: ``GET /internal/auth/users/{id}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def account(self, user_id: str) -> Account | None:
        user = await self.peers.call(auth.USER, user_id)
        return Account(email=user.email, name=user.name) if user is not None else None


class ClientCompanies:
    """client: invitations redeemed."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def redeem(
        self, token: str, *, contractor_id: str, user_id: str, email: str, name: str
    ) -> Redeemed:
        """Redeem once; the client service answers the same contractor's repeat
        as a replay, so the peer client may retry it (idempotency key)."""
        digest = hashlib.sha256(token.encode()).hexdigest()[:32]
        body = RedeemInvitation(
            token=token, contractor_id=contractor_id, user_id=user_id, email=email, name=name
        )
        try:
            return await self.peers.call(
                client.REDEEM_INVITATION,
                body=body,
                idempotency_key=f"redeem:{contractor_id}:{digest}",
            )
        except InvitationAccepted as accepted:
            # To the contractor who redeems it, an accepted invitation is a used one.
            raise InvitationUsed(accepted.detail) from None
