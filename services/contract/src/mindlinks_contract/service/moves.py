"""The moves other services drive: the signature service's (its documents,
its transitions) and the ledger's activation (``active``). ``Contracts``
takes them from ``ContractMoves``; how an active contract ends (termination,
completion) is ``service.endings``'.

No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

from dataclasses import replace

from mindlinks_contract.documents import Documents, digest
from mindlinks_contract.domain import (
    SIGNATURE_SERVICE,
    Contract,
    ContractNotFound,
    DocumentNotFound,
    InvalidTransition,
    NotAPdf,
    PdfKind,
    ServiceNotAllowed,
    document_key,
    final_document_accepted,
    signature_may_move,
)
from mindlinks_contract.service.deadlines import SigningTimers
from mindlinks_contract.signing import DeadlinePassed
from mindlinks_contract.store import ContractStore
from mindlinks_fleet.events import ContractActivated
from mindlinks_fleet.internal.contract import Status
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork

PARTY_MOVES = {
    ("client", "client_signed"),
    ("client", "declined"),
    ("contractor", "fully_signed"),
    ("contractor", "declined"),
}
"""Which side may make which of the signature service's moves."""


class UnexpectedEvent(Exception):
    """An event that does not fit the contract (yet): retried, then dead-lettered."""


class ContractMoves:
    store: ContractStore
    documents: Documents
    signing: SigningTimers

    # -- reading one -----------------------------------------------------------

    async def get(self, contract_id: str) -> Contract:
        contract = await self.store.contract(contract_id)
        if contract is None:
            raise ContractNotFound()
        return contract

    # -- the signature service's moves -------------------------------------------

    async def document(self, contract_id: str, kind: PdfKind) -> bytes:
        if kind == "original":
            # Drafting stores the original under the contract's id, once, before
            # the contract commits: read it without the contract (a read saved
            # per signature); the contract only explains a miss. A draft whose
            # terms changed names another key, and sending it removed this one.
            data = await self.documents.get(document_key(contract_id, "original"))
            if data is not None:
                return data
        contract = await self.get(contract_id)
        key = contract.pdf_key if kind == "original" else contract.final_pdf_key
        data = await self.documents.get(key) if key else None
        if data is None:
            raise DocumentNotFound()
        return data

    async def store_final(
        self, service: str, contract_id: str, data: bytes, uow: UnitOfWork
    ) -> Contract:
        """Store the signed document (original + certificate). Replaced freely
        while the contractor's signature is in progress; afterwards only a
        retry with the same bytes is accepted (and changes nothing)."""
        if service != SIGNATURE_SERVICE:
            raise ServiceNotAllowed()
        if not data.startswith(b"%PDF-"):
            raise NotAPdf()
        contract = await self.get(contract_id)
        sha256 = await digest(data)
        if not final_document_accepted(contract, sha256):
            return contract
        key = document_key(contract_id, "final")
        await self.documents.put(key, data, sha256)
        updated = replace(
            contract,
            final_pdf_key=key,
            final_pdf_sha256=sha256,
            updated_at=now_iso(),
            version=contract.version + 1,
        )
        self.store.replace(uow, updated, expected_version=contract.version)
        return updated

    async def transition(
        self,
        service: str,
        contract_id: str,
        *,
        to: Status,
        expected_version: int,
        actor_user_id: str,
        reason: str | None,
        uow: UnitOfWork,
        actor_company_id: str | None = None,
    ) -> Contract:
        """Move for the signature service. The same move repeated by the same
        actor (a retry after a crash) answers the contract as it is. The
        client's side is moved by a member of the client company (the
        signature service checked their role), the contractor's by the
        contractor."""
        if service != SIGNATURE_SERVICE:
            raise ServiceNotAllowed()
        contract = await self.get(contract_id)
        if contract.already_moved_by(to, actor_user_id):
            return contract
        if contract.status == "expired":
            # Before the version: a signature that lost to the deadline says so.
            raise DeadlinePassed(f"The signing deadline was {contract.signing_deadline}")
        if contract.version != expected_version:
            raise StaleVersion(f"The contract is at version {contract.version}")
        signature_may_move(contract, to)
        side: str | None = None
        if actor_company_id is not None:
            side = "client" if actor_company_id == contract.client_company_id else None
        elif actor_user_id == contract.contractor_user_id:
            side = "contractor"
        elif actor_user_id == contract.client_user_id:
            side = "client"  # a move sent before company roles named the company
        if side is None or (side, to) not in PARTY_MOVES:
            raise InvalidTransition(f"This user is not the party who moves it to {to}")
        moved = contract.moved(
            to,
            at=now_iso(),
            actor_user_id=actor_user_id,
            reason=reason,
            actor_service=service,
        )
        self.store.replace(uow, moved, expected_version=contract.version)
        if to != "client_signed":
            # Fully signed or declined: no reminder, no expiry (the contractor's
            # turn keeps both running).
            self.signing.stop(uow, contract)
        return moved

    # -- moves driven by events -----------------------------------------------------

    async def on_activated(self, event: ContractActivated, uow: UnitOfWork) -> None:
        """``ledger.contract-activated`` → ``active`` (once)."""
        contract = await self.store.contract(event.contract_id)
        if contract is None:
            raise UnexpectedEvent(f"unknown contract {event.contract_id}")
        if contract.status in ("active", "completed", "terminated"):
            return
        if contract.status != "fully_signed":
            raise UnexpectedEvent(f"activation of a {contract.status} contract")
        at = now_iso()
        moved = contract.moved(
            "active",
            at=at,
            actor_user_id=None,
            actor_service="ledger",
            activated_at=at,
            ledger_entry_id=event.ledger_entry_id,
        )
        self.store.replace(uow, moved, expected_version=contract.version)
