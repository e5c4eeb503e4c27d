"""The contract service's tables: ``contracts`` (listed per company, per
contractor and per status through the ``by-company``, ``by-contractor`` and
``by-status`` indexes) and ``templates`` (per company). Nothing else reads or
writes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mindlinks_contract.domain import Change, Contract, Template
from mindlinks_kit.dynamo import Item, Table, UnitOfWork, values

_MAX_ROUNDS = 10
"""Filtered pages read at most this many DynamoDB pages before answering short."""


def _change_item(change: Change) -> Item:
    return {
        "from": change.from_status,
        "to": change.to_status,
        "at": change.at,
        "actorUserId": change.actor_user_id,
        "actorService": change.actor_service,
        "reason": change.reason,
    }


def _change_from(item: Item) -> Change:
    return Change(
        from_status=item["from"],
        to_status=item["to"],
        at=item["at"],
        actor_user_id=item.get("actorUserId"),
        reason=item.get("reason"),
        actor_service=item.get("actorService"),
    )


def contract_item(contract: Contract) -> Item:
    return {
        "id": contract.id,
        "status": contract.status,
        "title": contract.title,
        "description": contract.description,
        "currency": contract.currency,
        "startDate": contract.start_date,
        "terms": contract.terms,
        "totalMinor": contract.total_minor,
        "templateId": contract.template_id,
        "clientCompanyId": contract.client_company_id,
        "clientUserId": contract.client_user_id,
        "clientName": contract.client_name,
        "contractorId": contract.contractor_id,
        "contractorUserId": contract.contractor_user_id,
        "contractorName": contract.contractor_name,
        "pdfKey": contract.pdf_key,
        "pdfSha256": contract.pdf_sha256,
        "finalPdfKey": contract.final_pdf_key,
        "finalPdfSha256": contract.final_pdf_sha256,
        "activatedAt": contract.activated_at,
        "ledgerEntryId": contract.ledger_entry_id,
        "completedAt": contract.completed_at,
        "history": [
            {k: v for k, v in _change_item(c).items() if v is not None} for c in contract.history
        ],
        "createdAt": contract.created_at,
        "updatedAt": contract.updated_at,
        "version": contract.version,
    }


def contract_from(item: Item) -> Contract:
    return Contract(
        id=item["id"],
        status=item["status"],
        title=item["title"],
        description=item["description"],
        currency=item["currency"],
        start_date=item["startDate"],
        terms=item["terms"],
        total_minor=int(item["totalMinor"]),
        template_id=item.get("templateId"),
        client_company_id=item["clientCompanyId"],
        client_user_id=item["clientUserId"],
        client_name=item["clientName"],
        contractor_id=item["contractorId"],
        contractor_user_id=item["contractorUserId"],
        contractor_name=item["contractorName"],
        pdf_key=item["pdfKey"],
        pdf_sha256=item["pdfSha256"],
        final_pdf_key=item.get("finalPdfKey"),
        final_pdf_sha256=item.get("finalPdfSha256"),
        activated_at=item.get("activatedAt"),
        ledger_entry_id=item.get("ledgerEntryId"),
        completed_at=item.get("completedAt"),
        history=tuple(_change_from(c) for c in item.get("history") or ()),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        version=int(item["version"]),
    )


def template_item(template: Template) -> Item:
    return {
        "id": template.id,
        "companyId": template.company_id,
        "name": template.name,
        "body": template.body,
        "createdByUserId": template.created_by_user_id,
        "createdAt": template.created_at,
    }


def template_from(item: Item) -> Template:
    return Template(
        id=item["id"],
        company_id=item["companyId"],
        name=item["name"],
        body=item["body"],
        created_by_user_id=item["createdByUserId"],
        created_at=item["createdAt"],
    )


class ContractStore:
    def __init__(self, contracts: Table, templates: Table) -> None:
        self.contracts = contracts
        self.templates = templates

    async def contract(self, contract_id: str) -> Contract | None:
        item = await self.contracts.get({"id": contract_id})
        return contract_from(item) if item else None

    def add(self, uow: UnitOfWork, contract: Contract) -> None:
        uow.create(self.contracts, contract_item(contract), key="id")

    def replace(self, uow: UnitOfWork, contract: Contract, *, expected_version: int) -> None:
        """Optimistic locking: commits only if the stored version is still ``expected_version``."""
        uow.replace(self.contracts, contract_item(contract), expected_version=expected_version)

    async def page(
        self,
        *,
        index: str,
        key: str,
        value: str,
        where: Mapping[str, str],
        limit: int,
        start: Item | None,
    ) -> tuple[list[Contract], Item | None]:
        """Newest first, only items whose attributes equal ``where``. Reads past
        items the filter drops until the page is full (bounded), so pages are
        rarely short."""
        names = {"#k": key, **{f"#f{i}": name for i, name in enumerate(where)}}
        bound: dict[str, Any] = {"k": value, **{f"f{i}": v for i, v in enumerate(where.values())}}
        condition = " AND ".join(f"#f{i} = :f{i}" for i in range(len(where)))
        collected: list[Item] = []
        cursor = start
        for _ in range(_MAX_ROUNDS):
            items, last = await self.contracts.query(
                "#k = :k",
                values=values(**bound),
                names=names,
                index=index,
                limit=limit + 1 if not where else 100,
                start=cursor,
                forward=False,
                filter_expression=condition or None,
            )
            collected += items
            if len(collected) > limit or last is None:
                break
            cursor = last
        else:
            # Gave up filling the page: continue from where the reading stopped.
            return [contract_from(i) for i in collected], cursor
        page = [contract_from(i) for i in collected[:limit]]
        if len(collected) <= limit:
            return page, None
        tail = collected[limit - 1]
        return page, {"id": tail["id"], key: tail[key], "createdAt": tail["createdAt"]}

    async def scan_page(self, limit: int, start: Item | None) -> tuple[list[Contract], Item | None]:
        """Every tenant's contracts in the table's order (for operators only: a
        scan reads the table; the filtered lists above are queries)."""
        items, last = await self.contracts.scan(limit=limit + 1, start=start)
        page = [contract_from(i) for i in items[:limit]]
        if len(items) > limit:
            return page, {"id": items[limit - 1]["id"]}
        return page, last

    async def template(self, template_id: str) -> Template | None:
        item = await self.templates.get({"id": template_id})
        return template_from(item) if item else None

    def add_template(self, uow: UnitOfWork, template: Template) -> None:
        uow.create(self.templates, template_item(template), key="id")

    async def templates_page(
        self, company_id: str, limit: int, start: Item | None
    ) -> tuple[list[Template], Item | None]:
        items, _ = await self.templates.query(
            "companyId = :c",
            values=values(c=company_id),
            index="by-company",
            limit=limit + 1,
            start=start,
            forward=False,
        )
        page = [template_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, None
        tail = page[-1]
        return page, {"id": tail.id, "companyId": tail.company_id, "createdAt": tail.created_at}
