"""The ``invitations`` table: each invitation and one
``email:<companyId>:<digest>`` guard per invited address (one pending
invitation per address, and none once it is engaged). Guards carry no index
attributes, so no list ever shows them. Nothing else reads or writes it."""

from __future__ import annotations

import hashlib
import time

from mindlinks_client.domain import Guard, Invitation, InvitationPending
from mindlinks_fleet.internal.client import InvitationUsed
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record

INVITATIONS = Record(Invitation)
GUARDS = Record(Guard)


def _invitation_item(invitation: Invitation) -> Item:
    return {**INVITATIONS.item(invitation), "kind": "invitation"}


def guard_id(company_id: str, email: str) -> str:
    """One pending invitation per company and address: the guard item's id."""
    return f"email:{company_id}:{hashlib.sha256(email.encode()).hexdigest()[:40]}"


class InvitationStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def invitation(self, invitation_id: str) -> Invitation | None:
        item = await self.table.get({"id": invitation_id})
        return INVITATIONS.read(item) if item and item.get("kind") == "invitation" else None

    async def by_token(self, token_hash: str) -> Invitation | None:
        items, _ = await self.table.query(
            "tokenHash = :h", values=values(h=token_hash), index="by-token", limit=1
        )
        # The index is eventually consistent: decide on the item itself.
        return await self.invitation(items[0]["id"]) if items else None

    async def guard(self, company_id: str, email: str) -> Guard | None:
        item = await self.table.get({"id": guard_id(company_id, email)})
        return GUARDS.read(item) if item else None

    def add(self, uow: UnitOfWork, invitation: Invitation, guard: Guard, retention: int) -> None:
        purge_at = guard.expires_epoch + retention
        uow.create(self.table, {**_invitation_item(invitation), "purgeAt": purge_at}, key="id")
        uow.put(
            self.table,
            {
                "id": guard_id(invitation.company_id, invitation.email),
                "kind": "guard",
                **GUARDS.item(guard),
                "purgeAt": purge_at,
            },
            # Free, or held by a pending invitation that has expired.
            condition="attribute_not_exists(id) OR (#s = :pending AND expiresEpoch < :now)",
            names={"#s": "state"},
            values=values(pending="pending", now=int(time.time())),
            on_conflict=InvitationPending(),
        )

    def revoke(self, uow: UnitOfWork, invitation: Invitation, release_guard: bool) -> None:
        uow.update(
            self.table,
            {"id": invitation.id},
            "SET #s = :revoked, revokedAt = :at, version = version + :one",
            condition="#s = :pending",
            names={"#s": "status"},
            values=values(revoked="revoked", at=invitation.revoked_at, one=1, pending="pending"),
            on_conflict=StaleVersion(),
        )
        if release_guard:
            uow.delete(
                self.table,
                {"id": guard_id(invitation.company_id, invitation.email)},
                condition="invitationId = :id",
                values=values(id=invitation.id),
            )

    def accept(self, uow: UnitOfWork, invitation: Invitation) -> None:
        """Pending and unexpired → accepted, exactly once (the condition is the
        guarantee; the checks before it only give better answers)."""
        contractor = {
            "at": invitation.accepted_at,
            "cid": invitation.contractor_id,
            "uid": invitation.contractor_user_id,
        }
        expression = (
            "SET #s = :accepted, acceptedAt = :at, contractorId = :cid, "
            "contractorUserId = :uid, version = version + :one"
        )
        if invitation.contractor_name:
            expression += ", contractorName = :name"
            contractor["name"] = invitation.contractor_name
        uow.update(
            self.table,
            {"id": invitation.id},
            expression + " REMOVE purgeAt",
            condition="#s = :pending AND expiresAt > :now",
            names={"#s": "status"},
            values=values(
                accepted="accepted", one=1, pending="pending", now=now_iso(), **contractor
            ),
            on_conflict=InvitationUsed(),
        )
        uow.update(
            self.table,
            {"id": guard_id(invitation.company_id, invitation.email)},
            "SET #s = :accepted REMOVE purgeAt",
            condition="invitationId = :id",
            names={"#s": "state"},
            values=values(accepted="accepted", id=invitation.id),
            on_conflict=InvitationUsed(),
        )

    async def page(
        self, company_id: str, limit: int, start: Item | None, accepted_only: bool
    ) -> tuple[list[Invitation], Item | None]:
        """Newest first; with ``accepted_only`` the filter may thin a page out,
        so it reads on until the page is full or the list ends."""
        items, last = await query_page(
            self.table,
            "by-company",
            {"companyId": company_id},
            limit,
            start,
            forward=False,
            where={"status": "accepted"} if accepted_only else None,
        )
        return [INVITATIONS.read(i) for i in items], last
