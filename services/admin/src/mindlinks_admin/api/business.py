"""Contracts and payments across tenants, and escrowed items' disputes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from mindlinks_admin.api.common import AdminActor, admin_router, page_of
from mindlinks_admin.deps import Deps
from mindlinks_admin.schemas import ContractOut, EscrowItemOut, ReasonIn, Record, ResolutionIn
from mindlinks_fleet.internal.contract import Status as ContractStatus
from mindlinks_fleet.internal.payment import ChargeStatus, EscrowState
from mindlinks_kit.schemas import Cursor, Id, Limit, Page

router = admin_router("admin: business")


@router.get("/contracts")
async def contracts(
    actor: AdminActor,
    deps: Deps,
    status: ContractStatus | None = None,
    company_id: Annotated[Id | None, Query(alias="companyId")] = None,
    contractor_id: Annotated[Id | None, Query(alias="contractorId")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Contracts of every tenant, by status, company or contractor."""
    return page_of(
        await deps.business.contract_page(
            status=status,
            company_id=company_id,
            contractor_id=contractor_id,
            limit=limit,
            cursor=cursor,
        )
    )


@router.get("/contracts/{contract_id}")
async def contract(contract_id: Id, actor: AdminActor, deps: Deps) -> ContractOut:
    """The contract with its signatures and ledger history (``partial`` names
    what did not answer). Audited as ``viewed``."""
    return ContractOut.of(await deps.business.contract(actor, contract_id))


@router.post("/contracts/{contract_id}/void")
async def void_contract(contract_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """Void a contract no money has moved on (``409 invalid-transition`` from
    ``active`` on). Audited."""
    return await deps.business.void(actor, contract_id, body.reason)


@router.get("/payments/transactions")
async def transactions(
    actor: AdminActor,
    deps: Deps,
    status: ChargeStatus | None = None,
    contract_id: Annotated[Id | None, Query(alias="contractId")] = None,
    stuck: bool | None = None,
    older_than_minutes: Annotated[
        int | None, Query(alias="olderThanMinutes", ge=1, le=10080)
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Transactions with their flags; ``stuck=true``: charges not settled after
    ``olderThanMinutes`` (default 60), oldest first."""
    return page_of(
        await deps.business.transactions(
            status=status,
            contract_id=contract_id,
            stuck=stuck,
            older_than_minutes=older_than_minutes,
            limit=limit,
            cursor=cursor,
        )
    )


@router.get("/payments/escrow")
async def escrow(
    actor: AdminActor,
    deps: Deps,
    state: EscrowState | None = None,
    contract_id: Annotated[Id | None, Query(alias="contractId")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Escrow items by state (or one contract's)."""
    return page_of(
        await deps.business.escrow(state=state, contract_id=contract_id, limit=limit, cursor=cursor)
    )


@router.post("/payments/transactions/{transaction_id}/flag")
async def flag_transaction(
    transaction_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps
) -> Record:
    """Flag a stuck transaction for follow-up (flagging again keeps the first
    flag). Audited."""
    return await deps.business.flag(actor, transaction_id, body.reason)


@router.get("/escrow/{escrow_id}")
async def escrow_item(escrow_id: Id, actor: AdminActor, deps: Deps) -> EscrowItemOut:
    """One escrowed item: its state and history from payment, its ledger
    entries (``partial`` names what did not answer). Audited as ``viewed``."""
    return EscrowItemOut.of(await deps.escrow.item(actor, escrow_id))


@router.post("/escrow/{escrow_id}/resolution")
async def resolve_escrow(
    escrow_id: Id, body: ResolutionIn, actor: AdminActor, deps: Deps
) -> Record:
    """Resolve a disputed item: ``release``, ``refund`` or ``split``
    (``releasedMinor`` to the contractor, the rest back to the client). Only a
    disputed item, once: ``409`` otherwise. Audited on ``escrow:<id>``."""
    return await deps.escrow.resolve(actor, escrow_id, body.outcome, body.released_minor, body.note)
