"""Telling a company that one of its webhook endpoints was disabled: its
owners and admins (whoever may manage webhooks), by mail and in the app.

An integration stopped receiving events, which the company must know: the
notice is essential (no opt-out). Each (endpoint, disabling, member) is one
notification, so a retried handler neither mails twice nor lists twice."""

from __future__ import annotations

import structlog

from mindlinks_fleet.internal import client
from mindlinks_fleet.teams import PERMISSIONS
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.http import Peers
from mindlinks_notification.clients import UserDirectory
from mindlinks_notification.domain import Recipient, SendRequest
from mindlinks_notification.service.notifier import Notifier
from mindlinks_notification.webhooks.domain import Endpoint

log = structlog.get_logger("mindlinks.webhooks")
TEMPLATE = "webhooks.endpoint-disabled"
MANAGERS = frozenset(PERMISSIONS["webhooks.manage"])


class EndpointDisabledNotice:
    def __init__(
        self, peers: Peers, directory: UserDirectory, notifier: Notifier, base_url: str
    ) -> None:
        self.peers = peers
        self.directory = directory
        self.notifier = notifier
        self.base_url = base_url.rstrip("/")

    async def tell(self, endpoint: Endpoint, uow: UnitOfWork) -> None:
        members = await self.peers.call(client.COMPANY_MEMBERS, endpoint.company_id)
        wanted = [m.user_id for m in members.items if m.role in MANAGERS]
        found = await self.directory.addressees(wanted)
        data = {
            "url": endpoint.url,
            "endpointId": endpoint.id,
            "failingSince": endpoint.failing_since or "",
            "webhooksUrl": f"{self.base_url}/settings/webhooks/{endpoint.id}",
        }
        for user_id in wanted:
            addressee = found.get(user_id)
            if addressee is None:
                log.warning("webhooks.unknown_admin", user_id=user_id)
                continue
            contact = addressee.contact
            await self.notifier.send(
                SendRequest(
                    template=TEMPLATE,
                    recipient=Recipient(email=contact.email, name=contact.name, user_id=user_id),
                    origin="webhooks",
                    dedupe_key=f"disabled:{endpoint.id}:{endpoint.disabled_at}:{user_id}",
                    data={"name": contact.name, **data},
                    category="productUpdates",
                    channels=("email", "inApp"),
                    essential=True,
                ),
                uow,
                addressee,
            )
