"""The ``member-invitations`` table: each invitation to join a company's
team, and one ``email:<companyId>:<digest>`` guard per invited address while
its invitation is pending (one pending invitation per address; accepting or
revoking releases it). Guards carry no index attributes, so no list ever
shows them. Nothing else reads or writes it."""

from __future__ import annotations

import time

from mindlinks_client.domain import parse_iso
from mindlinks_client.store.invitations import guard_id
from mindlinks_client.teams import MemberInvitation, MemberInvitationPending
from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record

MEMBER_INVITATIONS = Record(MemberInvitation)


class MemberInvitationStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def invitation(self, invitation_id: str) -> MemberInvitation | None:
        item = await self.table.get({"id": invitation_id})
        if not item or item.get("kind") != "invitation":
            return None
        return MEMBER_INVITATIONS.read(item)

    async def by_token(self, token_hash: str) -> MemberInvitation | None:
        items, _ = await self.table.query(
            "tokenHash = :h", values=values(h=token_hash), index="by-token", limit=1
        )
        # The index is eventually consistent: decide on the item itself.
        return await self.invitation(items[0]["id"]) if items else None

    async def pending_for(self, company_id: str, email: str) -> bool:
        """Whether a pending, unexpired invitation holds the address."""
        guard = await self.table.get({"id": guard_id(company_id, email)})
        return guard is not None and int(guard["expiresEpoch"]) > time.time()

    def add(self, uow: UnitOfWork, invitation: MemberInvitation, retention: int) -> None:
        expires_epoch = int(parse_iso(invitation.expires_at).timestamp())
        purge_at = expires_epoch + retention
        item = {**MEMBER_INVITATIONS.item(invitation), "kind": "invitation", "purgeAt": purge_at}
        uow.create(self.table, item, key="id")
        uow.put(
            self.table,
            {
                "id": guard_id(invitation.company_id, invitation.email),
                "kind": "guard",
                "invitationId": invitation.id,
                "expiresEpoch": expires_epoch,
                "purgeAt": purge_at,
            },
            # Free, or held by a pending invitation that has expired.
            condition="attribute_not_exists(id) OR expiresEpoch < :now",
            values=values(now=int(time.time())),
            on_conflict=MemberInvitationPending(),
        )

    def _release(self, uow: UnitOfWork, invitation: MemberInvitation) -> None:
        """The address's guard, only while it is this invitation's."""
        uow.delete(
            self.table,
            {"id": guard_id(invitation.company_id, invitation.email)},
            condition="attribute_not_exists(id) OR invitationId = :id",
            values=values(id=invitation.id),
        )

    def revoke(self, uow: UnitOfWork, invitation: MemberInvitation) -> None:
        uow.update(
            self.table,
            {"id": invitation.id},
            "SET #s = :revoked, revokedAt = :at, version = version + :one",
            condition="#s = :pending",
            names={"#s": "status"},
            values=values(revoked="revoked", at=invitation.revoked_at, one=1, pending="pending"),
            on_conflict=StaleVersion(),
        )
        self._release(uow, invitation)

    def accept(self, uow: UnitOfWork, invitation: MemberInvitation) -> None:
        """Pending and unexpired → accepted, exactly once (the condition is the
        guarantee; the checks before it only give better answers)."""
        uow.update(
            self.table,
            {"id": invitation.id},
            "SET #s = :accepted, acceptedAt = :at, acceptedByUserId = :uid,"
            " version = version + :one REMOVE purgeAt",
            condition="#s = :pending AND expiresAt > :at",
            names={"#s": "status"},
            values=values(
                accepted="accepted",
                at=invitation.accepted_at,
                uid=invitation.accepted_by_user_id,
                one=1,
                pending="pending",
            ),
            # Accepted (or expired) since it was read: the use case reads again
            # and answers a replay, ``invitation-used`` or ``-expired``.
            on_conflict=StaleVersion(),
        )
        self._release(uow, invitation)

    async def page(
        self, company_id: str, limit: int, start: Item | None
    ) -> tuple[list[MemberInvitation], Item | None]:
        """Newest first."""
        items, last = await query_page(
            self.table, "by-company", {"companyId": company_id}, limit, start, forward=False
        )
        return [MEMBER_INVITATIONS.read(i) for i in items], last
