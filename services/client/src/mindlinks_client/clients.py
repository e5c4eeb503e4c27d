"""Typed calls to the client service's peers (through ``runtime.peers``:
service token, deadline, retries, circuit breaker)."""

from __future__ import annotations

import structlog
from pydantic import ValidationError

from mindlinks_fleet.internal import auth, notification
from mindlinks_fleet.internal.auth import UserRecord
from mindlinks_fleet.internal.notification import RecipientIn, SendNotification
from mindlinks_kit.errors import PeerRefused, Problem
from mindlinks_kit.http import Peers

log = structlog.get_logger("mindlinks.client.peers")


class InvitationNotSent(Problem):
    status = 502
    code = "invitation-not-sent"
    title = "The invitation email could not be sent; nothing was saved, try again"


class AuthUsers:
    """auth: ``GET /internal/auth/users/{id}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def name(self, user_id: str) -> str | None:
        user = await self.peers.call(auth.USER, user_id)
        return user.name if user is not None else None

    async def user(self, user_id: str) -> UserRecord | None:
        found: UserRecord | None = await self.peers.call(auth.USER, user_id)
        return found


class Mailer:
    """notification: the invitation mails (a contractor's, a team member's)."""

    TEMPLATE = "client.invitation"
    MEMBER_TEMPLATE = "client.member-invitation"

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def invitation(
        self,
        *,
        invitation_id: str,
        email: str,
        name: str | None,
        invite_url: str,
        token: str,
        company_name: str,
        inviter_name: str,
    ) -> None:
        """Essential mail (it carries the only copy of the token), de-duplicated
        by the invitation id so the peer client may retry it."""
        try:
            body = SendNotification(
                template=self.TEMPLATE,
                recipient=RecipientIn(email=email, name=name or email.partition("@")[0]),
                data={
                    "inviteUrl": invite_url,
                    "token": token,
                    "companyName": company_name,
                    "inviterName": inviter_name,
                },
                essential=True,
                dedupe_key=f"invitation:{invitation_id}",
            )
            await self.peers.call(
                notification.SEND, body=body, idempotency_key=f"invitation:{invitation_id}"
            )
        except (PeerRefused, ValidationError) as exc:
            status = exc.peer_status if isinstance(exc, PeerRefused) else 422
            if status is None:  # a 2xx that is not a SendResult
                status = 502
            log.warning("invitation.mail_refused", invitation_id=invitation_id, status=status)
            raise InvitationNotSent(providerStatus=status) from exc

    async def member_invitation(
        self,
        *,
        invitation_id: str,
        email: str,
        invite_url: str,
        token: str,
        company_name: str,
        inviter_name: str,
        role: str,
    ) -> None:
        """Essential too (the token's only copy), de-duplicated by the invitation id."""
        key = f"member-invitation:{invitation_id}"
        try:
            body = SendNotification(
                template=self.MEMBER_TEMPLATE,
                recipient=RecipientIn(email=email, name=email.partition("@")[0]),
                data={
                    "inviteUrl": invite_url,
                    "token": token,
                    "companyName": company_name,
                    "inviterName": inviter_name,
                    "role": role,
                },
                essential=True,
                dedupe_key=key,
            )
            await self.peers.call(notification.SEND, body=body, idempotency_key=key)
        except (PeerRefused, ValidationError) as exc:
            status = exc.peer_status if isinstance(exc, PeerRefused) else 422
            if status is None:  # a 2xx that is not a SendResult
                status = 502
            log.warning(
                "member_invitation.mail_refused", invitation_id=invitation_id, status=status
            )
            raise InvitationNotSent(providerStatus=status) from exc
