"""The ``companies`` table: each company, one ``owner:<userId>`` guard
item per owner (one company per owner, read consistently) and one
``number:<jurisdiction>/<number>`` guard per registry number held by an
active company (one active company per number). Guards carry no index
attributes, so no list ever shows them. Nothing else reads or writes it."""

from __future__ import annotations

from typing import Any

from mindlinks_client.domain import (
    Company,
    CompanyAlreadyRegistered,
    NumberTaken,
    RegistryRecord,
    Review,
)
from mindlinks_client.vetting import Authority, Status
from mindlinks_kit.address import Address
from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, filled_page, values


def _company_item(company: Company) -> Item:
    return {
        "id": company.id,
        "kind": "company",
        "ownerUserId": company.owner_user_id,
        "legalName": company.legal_name,
        "tradingName": company.trading_name,
        "jurisdictionCode": company.jurisdiction_code,
        "companyNumber": company.company_number,
        "address": {
            "line1": company.address.line1,
            "line2": company.address.line2,
            "city": company.address.city,
            "postalCode": company.address.postal_code,
            "country": company.address.country,
        },
        "status": company.status,
        "nameMismatch": company.name_mismatch,
        "registry": {
            "checkedAt": company.registry.checked_at,
            "reachable": company.registry.reachable,
            "name": company.registry.name,
            "status": company.registry.status,
            "registeredAddress": company.registry.registered_address,
        },
        "review": _review_item(company.review),
        "holds": list(company.holds),
        "authority": {
            "check": company.authority.check,
            "officer": company.authority.officer,
            "position": company.authority.position,
        },
        "conflictsWith": company.conflicts_with,
        "createdAt": company.created_at,
        "updatedAt": company.updated_at,
        "version": company.version,
    }


def _review_item(review: Review | None) -> Item | None:
    if review is None:
        return None
    return {
        "decision": review.decision,
        "reason": review.reason,
        "decidedBy": review.decided_by,
        "decidedAt": review.decided_at,
    }


def _review_from(item: Item | None) -> Review | None:
    if not item:
        return None
    return Review(
        decision=item["decision"],
        reason=item.get("reason"),
        decided_by=item["decidedBy"],
        decided_at=item["decidedAt"],
    )


def _company_from(item: Item) -> Company:
    address: dict[str, Any] = item["address"]
    registry: dict[str, Any] = item.get("registry") or {}
    authority: dict[str, Any] = item.get("authority") or {}
    return Company(
        id=item["id"],
        owner_user_id=item["ownerUserId"],
        legal_name=item["legalName"],
        trading_name=item.get("tradingName"),
        jurisdiction_code=item["jurisdictionCode"],
        company_number=item["companyNumber"],
        address=Address(
            line1=address["line1"],
            line2=address.get("line2"),
            city=address["city"],
            postal_code=address["postalCode"],
            country=address["country"],
        ),
        status=item["status"],
        name_mismatch=bool(item.get("nameMismatch")),
        registry=RegistryRecord(
            checked_at=registry.get("checkedAt") or item["createdAt"],
            reachable=bool(registry.get("reachable", True)),
            name=registry.get("name"),
            status=registry.get("status"),
            registered_address=registry.get("registeredAddress"),
        ),
        review=_review_from(item.get("review")),
        holds=tuple(item.get("holds") or ()),
        authority=Authority(
            check=authority.get("check", "not-checked"),
            officer=authority.get("officer"),
            position=authority.get("position"),
        ),
        conflicts_with=item.get("conflictsWith"),
        created_at=item["createdAt"],
        updated_at=item.get("updatedAt") or item["createdAt"],
        version=int(item.get("version", 1)),
    )


"""Reads one page of a filtered list may take before it answers short."""


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
                review=_review_item(company.review),
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

            async def read(cursor: Item | None, size: int) -> tuple[list[Item], Item | None]:
                return await self.table.query(
                    "#s = :status",
                    values=values(status=status),
                    names={"#s": "status"},
                    index="by-status",
                    limit=size,
                    start=cursor,
                    forward=False,
                )

            def key(item: Item) -> Item:
                return {"id": item["id"], "status": item["status"], "createdAt": item["createdAt"]}

        else:

            async def read(cursor: Item | None, size: int) -> tuple[list[Item], Item | None]:
                return await self.table.scan(
                    limit=size,
                    start=cursor,
                    filter_expression="#kind = :company",
                    names={"#kind": "kind"},
                    values=values(company="company"),
                )

            def key(item: Item) -> Item:
                return {"id": item["id"]}

        items, last = await filled_page(read, limit, start, key)
        return [_company_from(item) for item in items], last
