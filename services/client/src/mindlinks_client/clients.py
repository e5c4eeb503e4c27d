"""Typed calls to the client service's peers (through ``runtime.peers``:
service token, deadline, retries, circuit breaker)."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from mindlinks_fleet.internal import notification
from mindlinks_fleet.internal.notification import RecipientIn, SendNotification
from mindlinks_kit.errors import PeerRefused, Problem
from mindlinks_kit.http import Peers, refusal

log = structlog.get_logger("mindlinks.client.peers")


class InvitationNotSent(Problem):
    status = 502
    code = "invitation-not-sent"
    title = "The invitation email could not be sent; nothing was saved, try again"


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class AuthUsers:
    """auth: ``GET /internal/auth/users/{id}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def name(self, user_id: str) -> str | None:
        response = await self.peers.request(
            "auth", "GET", f"/internal/auth/users/{quote(user_id, safe='')}"
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("auth", response)
        return _User.model_validate(response.json()).name


class Mailer:
    """notification: the invitation mail."""

    TEMPLATE = "client.invitation"

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
