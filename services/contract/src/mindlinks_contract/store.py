"""The contract service's tables: ``contracts`` (listed per company, per
contractor and per status through the ``by-company``, ``by-contractor`` and
``by-status`` indexes), ``templates`` (per company) and ``amendments`` (per
contract, by number). Nothing else reads or writes them."""

from __future__ import annotations

from collections.abc import Mapping

from mindlinks_contract.amendments import Amendment
from mindlinks_contract.domain import Contract, Template
from mindlinks_kit import pages
from mindlinks_kit.dynamo import Item, Table, UnitOfWork
from mindlinks_kit.records import Record

_FILTERED_READ = 100
"""Items a filtered page reads a request: the filter may drop most of them."""


CONTRACTS = Record(Contract, names={"from_status": "from", "to_status": "to"})
"""A contract, its history entries a list of maps (``from``/``to`` statuses)."""
TEMPLATES = Record(Template)
AMENDMENTS = Record(Amendment, names={"to_status": "to"})


class ContractStore:
    def __init__(self, contracts: Table, templates: Table, amendments: Table) -> None:
        self.contracts = contracts
        self.templates = templates
        self.amendments = amendments

    async def contract(self, contract_id: str) -> Contract | None:
        item = await self.contracts.get({"id": contract_id})
        return CONTRACTS.read(item) if item else None

    def add(self, uow: UnitOfWork, contract: Contract) -> None:
        uow.create(self.contracts, CONTRACTS.item(contract), key="id")

    def replace(
        self,
        uow: UnitOfWork,
        contract: Contract,
        *,
        expected_version: int,
        on_conflict: Exception | None = None,
    ) -> None:
        """Optimistic locking: commits only if the stored version is still ``expected_version``."""
        uow.replace(
            self.contracts,
            CONTRACTS.item(contract),
            expected_version=expected_version,
            on_conflict=on_conflict,
        )

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
        items, last = await pages.query_page(
            self.contracts,
            index,
            {key: value},
            limit,
            start,
            forward=False,
            where=where,
            batch=_FILTERED_READ if where else 0,
        )
        return [CONTRACTS.read(i) for i in items], last

    async def scan_page(self, limit: int, start: Item | None) -> tuple[list[Contract], Item | None]:
        """Every tenant's contracts in the table's order (for operators only: a
        scan reads the table; the filtered lists above are queries)."""
        items, last = await pages.scan_page(self.contracts, limit, start)
        return [CONTRACTS.read(i) for i in items], last

    async def template(self, template_id: str) -> Template | None:
        item = await self.templates.get({"id": template_id})
        return TEMPLATES.read(item) if item else None

    def add_template(self, uow: UnitOfWork, template: Template) -> None:
        uow.create(self.templates, TEMPLATES.item(template), key="id")

    async def templates_page(
        self, company_id: str, limit: int, start: Item | None
    ) -> tuple[list[Template], Item | None]:
        items, last = await pages.query_page(
            self.templates, "by-company", {"companyId": company_id}, limit, start, forward=False
        )
        return [TEMPLATES.read(i) for i in items], last

    # -- amendments ----------------------------------------------------------------

    async def amendment(self, contract_id: str, number: int) -> Amendment | None:
        item = await self.amendments.get({"contractId": contract_id, "number": number})
        return AMENDMENTS.read(item) if item else None

    def add_amendment(
        self, uow: UnitOfWork, amendment: Amendment, on_conflict: Exception | None = None
    ) -> None:
        """A new number: two proposals racing for it, one commits."""
        uow.create(
            self.amendments, AMENDMENTS.item(amendment), key="contractId", on_conflict=on_conflict
        )

    def replace_amendment(
        self, uow: UnitOfWork, amendment: Amendment, *, expected_version: int
    ) -> None:
        uow.replace(self.amendments, AMENDMENTS.item(amendment), expected_version=expected_version)

    async def amendments_page(
        self, contract_id: str, limit: int, start: Item | None
    ) -> tuple[list[Amendment], Item | None]:
        """A contract's amendments, oldest first (its versions in order)."""
        items, last = await pages.query_page(
            self.amendments, None, {"contractId": contract_id}, limit, start, forward=True
        )
        return [AMENDMENTS.read(i) for i in items], last
