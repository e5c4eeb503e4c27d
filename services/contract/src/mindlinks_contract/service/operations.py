"""What the admin service does with contracts: read them across tenants and
void one nobody has fully signed yet. The void is the client's move (the same
status machine, optimistic version and ``contract.voided``). A fully signed
contract is not voidable even by an admin: its activation (ledger) and
payment schedule (payment) may already be under way, and only ``active``
would stop them racing the void.

No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

from mindlinks_contract.domain import Contract
from mindlinks_contract.service.contracts import Contracts
from mindlinks_fleet.internal.contract import Status
from mindlinks_kit.dynamo import CursorCodec, UnitOfWork


class Operations:
    def __init__(self, contracts: Contracts, cursors: CursorCodec) -> None:
        self.contracts = contracts
        self.store = contracts.store
        self.cursors = cursors

    async def page(
        self,
        *,
        status: Status | None,
        company_id: str | None,
        contractor_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Contract], str | None]:
        """Contracts across tenants, newest first through the most selective
        index (a contractor's, else a company's, else a status's) with the other
        criteria as filters; with no criteria, a scan in the table's order."""
        scope = f"ops-contracts:{status or '*'}:{company_id or '*'}:{contractor_id or '*'}"
        start = self.cursors.decode(cursor, scope)
        where: dict[str, str] = {"status": status} if status else {}
        if contractor_id is not None:
            if company_id is not None:
                where["clientCompanyId"] = company_id
            owner = ("by-contractor", "contractorId", contractor_id)
        elif company_id is not None:
            owner = ("by-company", "clientCompanyId", company_id)
        elif status is not None:
            owner, where = ("by-status", "status", status), {}
        else:
            items, last = await self.store.scan_page(limit, start)
            return items, self.cursors.encode(last, scope)
        index, key, value = owner
        items, last = await self.store.page(
            index=index, key=key, value=value, where=where, limit=limit, start=start
        )
        return items, self.cursors.encode(last, scope)

    async def void(
        self, contract_id: str, reason: str, actor_user_id: str, uow: UnitOfWork
    ) -> Contract:
        """Void from ``draft``, ``sent_for_signature`` or ``client_signed``; a
        voided contract is answered as it is (the admin service retrying);
        ``fully_signed`` and later, and ``declined``, are ``invalid-transition``."""
        contract = await self.contracts.get(contract_id)
        if contract.status == "voided":
            return contract
        return self.contracts.move_to_voided(contract, reason, uow, actor_user_id, by_admin=True)
