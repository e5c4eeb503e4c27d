"""The ``members`` table, an adjacency list: each membership is two items
written in one transaction, ``company#<id>``/``user#<id>`` (a company's
members) and ``user#<id>``/``company#<id>`` (a user's companies), so both
lists are consistent reads of one partition. Nothing else reads or writes it."""

from __future__ import annotations

from mindlinks_client.domain import Member
from mindlinks_kit.dynamo import Item, Table, UnitOfWork, values
from mindlinks_kit.records import Record

MEMBERS = Record(Member)
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
            )
