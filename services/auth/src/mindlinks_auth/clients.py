"""Calls to auth's one peer, notification. Email is best effort from auth's
side: a notification outage must never fail the request that wanted to send
(the user can ask again), so failures are logged and reported as ``False``."""

from __future__ import annotations

from typing import Any, Literal

import structlog
from pydantic import ValidationError

from mindlinks_auth.domain import User
from mindlinks_fleet.internal import notification
from mindlinks_fleet.internal.notification import RecipientIn, SendNotification
from mindlinks_kit.errors import PeerRefused, PeerUnavailable
from mindlinks_kit.http import Peers

log = structlog.get_logger("mindlinks.auth.notification")
Template = Literal[
    "auth.verify-email", "auth.reset-password", "auth.account-exists", "auth.step-up-code"
]


class Notifications:
    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def send(
        self, template: Template, user: User, data: dict[str, Any], *, idempotency_key: str
    ) -> bool:
        try:
            body = SendNotification(
                template=template,
                recipient=RecipientIn(user_id=user.id, email=user.email, name=user.name),
                data={"name": user.name, **data},
                essential=True,
            )
            await self.peers.call(notification.SEND, body=body, idempotency_key=idempotency_key)
        except PeerUnavailable:
            log.warning("notification.unavailable", template=template, user_id=user.id)
            return False
        except (PeerRefused, ValidationError) as exc:
            status = exc.peer_status if isinstance(exc, PeerRefused) else 422
            log.error("notification.refused", template=template, user_id=user.id, status=status)
            return False
        return True

    async def verify_email(self, user: User, url: str, token: str, key: str) -> bool:
        return await self.send(
            "auth.verify-email", user, {"verifyUrl": url, "token": token}, idempotency_key=key
        )

    async def reset_password(self, user: User, url: str, token: str, key: str) -> bool:
        return await self.send(
            "auth.reset-password", user, {"resetUrl": url, "token": token}, idempotency_key=key
        )

    async def account_exists(
        self, user: User, *, sign_in_url: str, reset_url: str, key: str
    ) -> bool:
        return await self.send(
            "auth.account-exists",
            user,
            {"signInUrl": sign_in_url, "resetUrl": reset_url},
            idempotency_key=key,
        )

    async def step_up_code(
        self, user: User, code: str, *, action: str, reference: str, minutes: int, key: str
    ) -> bool:
        return await self.send(
            "auth.step-up-code",
            user,
            {"code": code, "action": action, "reference": reference, "minutes": minutes},
            idempotency_key=key,
        )
