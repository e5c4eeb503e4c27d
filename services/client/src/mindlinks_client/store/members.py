"""The ``members`` table, an adjacency list: each membership is two items
written in one transaction, ``company#<id>``/``user#<id>`` (a company's
members) and ``user#<id>``/``company#<id>`` (a user's companies), so both
lists are consistent reads of one partition; and the append-only
``member-changes`` table, the audit of every membership change (written in
the change's own transaction). Nothing else reads or writes them."""

from __future__ import annotations

from mindlinks_client.domain import Member
from mindlinks_client.teams import LastOwner, MemberChange
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.dynamo import ConditionFailed, Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record

MEMBERS = Record(Member)
CHANGES = Record(MemberChange)
LIMIT = 1000
"""Members of one company, companies of one user: far fewer in practice."""


def _sides(member: Member) -> tuple[Item, Item]:
    item = MEMBERS.item(member)
    company_side = {**item, "pk": f"company#{member.company_id}", "sk": f"user#{member.user_id}"}
    user_side = {**item, "pk": f"user#{member.user_id}", "sk": f"company#{member.company_id}"}
    return company_side, user_side


class MemberStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def of_company(self, company_id: str) -> list[Member]:
        return await self._partition(f"company#{company_id}")

    async def of_user(self, user_id: str) -> list[Member]:
        return await self._partition(f"user#{user_id}")

    async def member(self, company_id: str, user_id: str) -> Member | None:
        item = await self.table.get({"pk": f"company#{company_id}", "sk": f"user#{user_id}"})
        return MEMBERS.read(item) if item else None

    async def _partition(self, pk: str) -> list[Member]:
        items, _ = await self.table.query(
            "pk = :pk", values=values(pk=pk), limit=LIMIT, consistent=True
        )
        return [MEMBERS.read(item) for item in items]

    async def page(
        self, company_id: str, limit: int, start: Item | None
    ) -> tuple[list[Member], Item | None]:
        """A company's members, in user id order."""
        items, last = await query_page(
            self.table, None, {"pk": f"company#{company_id}"}, limit, start
        )
        return [MEMBERS.read(item) for item in items], last

    def add(self, uow: UnitOfWork, member: Member, on_conflict: Exception) -> None:
        """Both sides, each only if absent."""
        for side in _sides(member):
            uow.put(self.table, side, condition="attribute_not_exists(pk)", on_conflict=on_conflict)

    def replace(self, uow: UnitOfWork, member: Member, *, expected_version: int) -> None:
        for side in _sides(member):
            uow.replace(self.table, side, expected_version=expected_version)

    def remove(self, uow: UnitOfWork, member: Member) -> None:
        for side in _sides(member):
            uow.delete(
                self.table,
                {"pk": side["pk"], "sk": side["sk"]},
                condition="#v = :expected",
                names={"#v": "version"},
                values=values(expected=member.version),
                on_conflict=StaleVersion(),
            )

    def still_owner(self, uow: UnitOfWork, owner: Member) -> None:
        """Demoting or removing an owner is conditional on another owner
        staying one: two owners demoting each other at once cannot leave the
        company without an owner (the later transaction fails)."""
        uow.update(
            self.table,
            {"pk": f"company#{owner.company_id}", "sk": f"user#{owner.user_id}"},
            "SET #r = #r",
            condition="#r = :owner",
            names={"#r": "role"},
            values=values(owner=CompanyRole.OWNER.value),
            on_conflict=LastOwner(),
        )


class ChangeStore:
    """``member-changes``: pk ``companyId``, sk ``changeId`` (time-ordered)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def append(self, uow: UnitOfWork, change: MemberChange) -> None:
        uow.put(
            self.table,
            CHANGES.item(change),
            condition="attribute_not_exists(changeId)",
            on_conflict=ConditionFailed(),
        )

    async def page(
        self, company_id: str, limit: int, start: Item | None
    ) -> tuple[list[MemberChange], Item | None]:
        """Newest first."""
        items, last = await query_page(
            self.table, None, {"companyId": company_id}, limit, start, forward=False
        )
        return [CHANGES.read(item) for item in items], last
