"""Company membership changes → the member concerned: added (to which company,
in which role), re-roled, removed. The registering account becoming its
company's first owner is not a change anyone needs telling about.

These events are also revocation events (every service drops its cached
memberships of the user); the kit runs that first, then these handlers.
"""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.events import CompanyMemberChanged
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler
from mindlinks_kit.events.envelope import Delivered
from mindlinks_notification.service.flows import EventNotifications


def registering_owner(change: CompanyMemberChanged) -> bool:
    """The account that registered the company, added as its first owner."""
    return (
        change.actor_user_id == change.user_id
        and change.previous_role is None
        and change.role == "owner"
    )


class TeamNotifications:
    def __init__(self, flows: EventNotifications) -> None:
        self.flows = flows

    def handlers(self) -> dict[str, Handler]:
        return {
            "company.member-added": self.member_added,
            "company.member-role-changed": self.member_role_changed,
            "company.member-removed": self.member_removed,
        }

    async def member_added(self, event: Delivered[CompanyMemberChanged], uow: UnitOfWork) -> None:
        p = event.payload
        if registering_owner(p):
            return
        data = {"companyName": p.company_name, "role": p.role, "dashboardUrl": self.flows.base_url}
        await self._tell(event, "company.member-added", data, uow)

    async def member_role_changed(
        self, event: Delivered[CompanyMemberChanged], uow: UnitOfWork
    ) -> None:
        p = event.payload
        data = {"companyName": p.company_name, "role": p.role, "previousRole": p.previous_role}
        await self._tell(event, "company.member-role-changed", data, uow)

    async def member_removed(self, event: Delivered[CompanyMemberChanged], uow: UnitOfWork) -> None:
        p = event.payload
        data = {"companyName": p.company_name, "left": p.actor_user_id == p.user_id}
        await self._tell(event, "company.member-removed", data, uow)

    async def _tell(
        self,
        event: Delivered[CompanyMemberChanged],
        template: str,
        data: dict[str, Any],
        uow: UnitOfWork,
    ) -> None:
        # Access to a company's data changed: a security notice, no opt-out.
        await self.flows.notify(
            event, event.payload.user_id, template, data, "productUpdates", uow, essential=True
        )
