"""The ``companies`` table: each company, one ``owner:<userId>`` guard
item per owner (one company per owner, read consistently) and one
``number:<jurisdiction>/<number>`` guard per registry number held by an
active company (one active company per number). Guards carry no index
attributes, so no list ever shows them. Nothing else reads or writes it."""

from __future__ import annotations

from mindlinks_client.domain import Company, CompanyAlreadyRegistered, NumberTaken, Review
from mindlinks_client.vetting import Status
from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page, scan_page
from mindlinks_kit.records import Record

COMPANIES = Record(Company, absent={"name_mismatch": False})
REVIEWS = Record(Review)


def _company_item(company: Company) -> Item:
    return {**COMPANIES.item(company), "kind": "company"}


def _company_from(item: Item) -> Company:
    created = item["createdAt"]
    # Items from before the registry's answer and updates were recorded.
    registry = {"checkedAt": created, "reachable": True, **(item.get("registry") or {})}
    return COMPANIES.read({"updatedAt": created, **item, "registry": registry})


class CompanyStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def company(self, company_id: str) -> Company | None:
        item = await self.table.get({"id": company_id})
        return _company_from(item) if item and item.get("kind") == "company" else None

    async def by_owner(self, owner_user_id: str) -> Company | None:
        """Through the owner's guard (a consistent read, unlike the GSI)."""
        guard = await self.table.get({"id": f"owner:{owner_user_id}"})
        return await self.company(guard["companyId"]) if guard else None

    async def number_holder(self, number: str) -> str | None:
        """The active company holding ``jurisdiction/number`` (a consistent read)."""
        guard = await self.table.get({"id": f"number:{number}"})
        return str(guard["companyId"]) if guard else None

    def _hold_number(self, uow: UnitOfWork, company: Company, on_conflict: Exception) -> None:
        """The number guard: free, or already this company's."""
        uow.put(
            self.table,
            {"id": f"number:{company.number}", "kind": "number", "companyId": company.id},
            condition="attribute_not_exists(id) OR companyId = :self",
            values=values(self=company.id),
            on_conflict=on_conflict,
        )

    def add(self, uow: UnitOfWork, company: Company) -> None:
        uow.put(
            self.table,
            {"id": f"owner:{company.owner_user_id}", "kind": "owner", "companyId": company.id},
            condition="attribute_not_exists(id)",
            on_conflict=CompanyAlreadyRegistered(),
        )
        if company.status == "active":
            # A concurrent registration took the number since we read it:
            # stage again (``StaleVersion``) and this one is held for review.
            self._hold_number(uow, company, StaleVersion())
        uow.create(self.table, _company_item(company), key="id")

    def replace(self, uow: UnitOfWork, company: Company, *, expected_version: int) -> None:
        uow.replace(self.table, _company_item(company), expected_version=expected_version)

    def decide(self, uow: UnitOfWork, company: Company) -> None:
        """Record the review, only while the company is still held: an update,
        so an owner's concurrent edit is neither lost nor overwritten (its own
        versioned write fails instead)."""
        self._move(uow, company, "pending_review")
        if company.status == "active":
            self._hold_number(uow, company, NumberTaken())

    def revoke(self, uow: UnitOfWork, company: Company) -> None:
        """Active → rejected, and the number guard it held is deleted (only
        if it is this company's)."""
        self._move(uow, company, "active")
        uow.delete(
            self.table,
            {"id": f"number:{company.number}"},
            condition="attribute_not_exists(id) OR companyId = :self",
            values=values(self=company.id),
        )

    def _move(self, uow: UnitOfWork, company: Company, source: Status) -> None:
        """The company's new status and review, only from ``source``."""
        uow.update(
            self.table,
            {"id": company.id},
            "SET #s = :status, #review = :review, updatedAt = :at, #v = #v + :one",
            condition="attribute_exists(id) AND #s = :source",
            names={"#s": "status", "#review": "review", "#v": "version"},
            values=values(
                status=company.status,
                review=REVIEWS.item(company.review) if company.review else None,
                at=company.updated_at,
                one=1,
                source=source,
            ),
            on_conflict=StaleVersion(),
        )

    async def page(
        self, status: Status | None, limit: int, start: Item | None
    ) -> tuple[list[Company], Item | None]:
        """Of one status newest first (``by-status``), else in scan order
        without the owner guards."""
        if status is not None:
            items, last = await query_page(
                self.table, "by-status", {"status": status}, limit, start, forward=False
            )
        else:
            items, last = await scan_page(self.table, limit, start, where={"kind": "company"})
        return [_company_from(item) for item in items], last
