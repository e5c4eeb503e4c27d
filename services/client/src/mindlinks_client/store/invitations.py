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


def _invitation_item(invitation: Invitation) -> Item:
    return {
        "id": invitation.id,
        "kind": "invitation",
        "companyId": invitation.company_id,
        "companyName": invitation.company_name,
        "email": invitation.email,
        "name": invitation.name,
        "tokenHash": invitation.token_hash,
        "status": invitation.status,
        "invitedByUserId": invitation.invited_by_user_id,
        "createdAt": invitation.created_at,
        "expiresAt": invitation.expires_at,
        "version": invitation.version,
    }


def _invitation_from(item: Item) -> Invitation:
    return Invitation(
        id=item["id"],
        company_id=item["companyId"],
        company_name=item["companyName"],
        email=item["email"],
        name=item.get("name"),
        token_hash=item["tokenHash"],
        status=item["status"],
        invited_by_user_id=item["invitedByUserId"],
        created_at=item["createdAt"],
        expires_at=item["expiresAt"],
        accepted_at=item.get("acceptedAt"),
        revoked_at=item.get("revokedAt"),
        contractor_id=item.get("contractorId"),
        contractor_user_id=item.get("contractorUserId"),
        contractor_name=item.get("contractorName"),
        version=int(item.get("version", 1)),
    )


def _guard_id(company_id: str, email: str) -> str:
    return f"email:{company_id}:{hashlib.sha256(email.encode()).hexdigest()[:40]}"


def _page_key(invitation: Invitation) -> Item:
    return {
        "id": invitation.id,
        "companyId": invitation.company_id,
        "createdAt": invitation.created_at,
    }


class InvitationStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def invitation(self, invitation_id: str) -> Invitation | None:
        item = await self.table.get({"id": invitation_id})
        return _invitation_from(item) if item and item.get("kind") == "invitation" else None

    async def by_token(self, token_hash: str) -> Invitation | None:
        items, _ = await self.table.query(
            "tokenHash = :h", values=values(h=token_hash), index="by-token", limit=1
        )
        # The index is eventually consistent: decide on the item itself.
        return await self.invitation(items[0]["id"]) if items else None

    async def guard(self, company_id: str, email: str) -> Guard | None:
        item = await self.table.get({"id": _guard_id(company_id, email)})
        if item is None:
            return None
        return Guard(
            invitation_id=item["invitationId"],
            state=item["state"],
            expires_epoch=int(item["expiresEpoch"]),
        )

    def add(self, uow: UnitOfWork, invitation: Invitation, guard: Guard, retention: int) -> None:
        purge_at = guard.expires_epoch + retention
        uow.create(self.table, {**_invitation_item(invitation), "purgeAt": purge_at}, key="id")
        uow.put(
            self.table,
            {
                "id": _guard_id(invitation.company_id, invitation.email),
                "kind": "guard",
                "invitationId": guard.invitation_id,
                "state": guard.state,
                "expiresEpoch": guard.expires_epoch,
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
                {"id": _guard_id(invitation.company_id, invitation.email)},
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
            {"id": _guard_id(invitation.company_id, invitation.email)},
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
        found: list[Item] = []
        cursor = start
        while True:
            items, last = await self.table.query(
                "companyId = :c",
                values=values(c=company_id, **({"a": "accepted"} if accepted_only else {})),
                names={"#s": "status"} if accepted_only else None,
                filter_expression="#s = :a" if accepted_only else None,
                index="by-company",
                limit=limit + 1,
                start=cursor,
                forward=False,
            )
            found.extend(items)
            if len(found) > limit or last is None:
                break
            cursor = last
        page = [_invitation_from(i) for i in found[:limit]]
        if len(found) <= limit:
            return page, None
        return page, _page_key(page[-1])
