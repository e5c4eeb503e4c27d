"""Contracts and payments across tenants: the contract with its signatures and
ledger history, voiding, transactions and escrow, flagging a stuck transaction."""

from __future__ import annotations

import asyncio

from mindlinks_admin.clients import Contracts, Ledger, Page, Payments, Signatures
from mindlinks_admin.domain import Actor, ContractNotFound, ContractView
from mindlinks_admin.peers import Gathered, Missing, Record, one_source, settle, state_before
from mindlinks_admin.service.audit import Audit


class Business:
    def __init__(
        self,
        *,
        contracts: Contracts,
        signatures: Signatures,
        ledger: Ledger,
        payments: Payments,
        audit: Audit,
        deadline: float,
    ) -> None:
        self.contracts = contracts
        self.signatures = signatures
        self.ledger = ledger
        self.payments = payments
        self.audit = audit
        self.deadline = deadline

    # contracts --------------------------------------------------------------------

    async def contract_page(
        self,
        *,
        status: str | None,
        company_id: str | None,
        contractor_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        return await self.contracts.page(
            status=status,
            company_id=company_id,
            contractor_id=contractor_id,
            limit=limit,
            cursor=cursor,
        )

    async def contract(self, actor: Actor, contract_id: str) -> ContractView:
        """The contract (its only source is the contract service) with its
        signatures and its journal entries, fetched at once."""
        d = self.deadline
        found, signatures, history = await asyncio.gather(
            settle("contract", self.contracts.get(contract_id), d),
            settle("signature", self.signatures.of_contract(contract_id), d),
            settle("ledger", self.ledger.history(contract_id), d),
        )
        if isinstance(found, Missing):
            raise one_source(found)
        if found is None:
            raise ContractNotFound(f"No contract {contract_id}")
        got = Gathered()
        signed = got.take(signatures)
        journal = got.take(history)
        await self.audit.viewed(actor, "contract.view", f"contract:{contract_id}")
        return ContractView(
            contract=found,
            signatures=signed[0] if signed is not None else None,
            history=journal[0] if journal is not None else None,
            partial=got.partial,
        )

    async def void(self, actor: Actor, contract_id: str, reason: str) -> Record:
        """Only before money may have moved; the contract service decides (409
        ``invalid-transition`` from ``active`` on)."""
        before = await self.contracts.get(contract_id)
        if before is None:
            raise ContractNotFound(f"No contract {contract_id}")
        return await self.audit.change(
            actor,
            "contract.void",
            f"contract:{contract_id}",
            reason=reason,
            before=before,
            apply=lambda: self.contracts.void(contract_id, reason, actor.user_id),
        )

    # payments ---------------------------------------------------------------------

    async def transactions(
        self,
        *,
        status: str | None,
        contract_id: str | None,
        stuck: bool | None,
        older_than_minutes: int | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        return await self.payments.transactions(
            status=status,
            contract_id=contract_id,
            stuck=stuck,
            older_than_minutes=older_than_minutes,
            limit=limit,
            cursor=cursor,
        )

    async def escrow(
        self, *, state: str | None, contract_id: str | None, limit: int, cursor: str | None
    ) -> Page:
        return await self.payments.escrow(
            state=state, contract_id=contract_id, limit=limit, cursor=cursor
        )

    async def flag(self, actor: Actor, transaction_id: str, reason: str) -> Record:
        """Mark a stuck transaction for follow-up. ``before``: the transaction
        with its flag as payment holds it (an unknown one is payment's 404,
        nothing recorded); ``after``: the flag it answers (the first one stays)."""
        before = await state_before(
            "payment", self.payments.transaction(transaction_id), self.deadline
        )
        return await self.audit.change(
            actor,
            "transaction.flag",
            f"transaction:{transaction_id}",
            reason=reason,
            before=before,
            apply=lambda: self.payments.flag(transaction_id, reason, actor.user_id),
        )
