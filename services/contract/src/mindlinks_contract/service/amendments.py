"""Amendments (issue 16, ADR 0017): the client proposes one (its PDF is the
whole contract as amended, headed by what changes and why), the signature
service moves it as both parties sign or one declines, the client may
withdraw it; the contractor's signature puts it in force in the contract's
own transaction, with ``contract.amended``.

No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from mindlinks_contract.amendments import (
    PARTY_MOVES,
    Amendment,
    AmendmentNotFound,
    Proposal,
    Step,
    changes_in_words,
    check_amendable,
    check_funded,
    check_in_force_possible,
    closed,
    current_version,
    in_force,
    proposed_version,
)
from mindlinks_contract.documents import Documents, digest
from mindlinks_contract.domain import (
    SIGNATURE_SERVICE,
    Contract,
    DocumentNotFound,
    FinalDocumentMissing,
    InvalidTransition,
    NotAPdf,
    PdfKind,
    Reader,
    ServiceNotAllowed,
    Side,
    final_replaceable,
)
from mindlinks_contract.pdf import AmendmentNote, render_contract
from mindlinks_contract.service.contracts import Contracts, parties
from mindlinks_contract.store import ContractStore
from mindlinks_contract.terms import schedule
from mindlinks_fleet.events import (
    AmendmentProposed,
    AmendmentWithdrawn,
    ContractAmended,
    ScheduleItem,
)
from mindlinks_fleet.internal.contract import AmendmentStatus
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, StaleVersion, UnitOfWork
from mindlinks_kit.errors import Contention
from mindlinks_kit.runtime import Publish


class ItemStates(Protocol):
    async def item_states(self, contract_id: str) -> dict[str, str]: ...


def document_key(contract_id: str, number: int, kind: PdfKind) -> str:
    return f"contracts/{contract_id}/amendments/{number}/{kind}.pdf"


class Amendments:
    def __init__(
        self,
        *,
        contracts: Contracts,
        store: ContractStore,
        documents: Documents,
        payments: ItemStates,
        publish: Publish,
        cursors: CursorCodec,
    ) -> None:
        self.contracts = contracts
        self.store = store
        self.documents = documents
        self.payments = payments
        self.publish = publish
        self.cursors = cursors

    # -- the client ------------------------------------------------------------

    async def propose(
        self, company_id: str, user_id: str, contract_id: str, proposal: Proposal, uow: UnitOfWork
    ) -> Amendment:
        """Amendment ``n + 1`` of the company's active contract, its PDF stored
        before the commit (under its number: a proposal that loses the race
        for it leaves bytes the winner's overwrites)."""
        contract = await self.contracts.owned(company_id, contract_id)
        check_amendable(contract)
        number = contract.amendments_proposed + 1
        proposed, added, removed = proposed_version(contract, proposal, number)
        check_funded(removed, await self.payments.item_states(contract.id))
        previous = current_version(contract)
        at = now_iso()
        as_amended = replace(
            contract,
            description=proposed.description,
            end_date=proposed.end_date,
            terms=proposed.terms,
            total_minor=proposed.total_minor,
        )
        note = AmendmentNote(
            number=number,
            terms_version=number + 1,
            reason=proposal.reason,
            changes=changes_in_words(contract, previous, proposed, contract.currency),
        )
        document = replace(await self.contracts.document_of(as_amended, at), amendment=note)
        pdf = await asyncio.to_thread(render_contract, document)
        sha256 = await digest(pdf)
        key = document_key(contract.id, number, "original")
        await self.documents.put(key, pdf, sha256)
        amendment = Amendment(
            contract_id=contract.id,
            number=number,
            status="sent_for_signature",
            reason=proposal.reason,
            proposed_by_user_id=user_id,
            proposed_at=at,
            previous=previous,
            proposed=proposed,
            added_item_ids=added,
            removed_item_ids=removed,
            pdf_key=key,
            pdf_sha256=sha256,
            history=(Step("sent_for_signature", at, user_id, proposal.reason),),
        )
        # Lost to another write of the contract (another proposal, a
        # termination): decided again on what is there now (Idempotency.run).
        raced = Contention("The contract changed while the amendment was proposed")
        self.store.add_amendment(uow, amendment, on_conflict=raced)
        self.store.replace(
            uow,
            replace(
                contract,
                open_amendment=number,
                amendments_proposed=number,
                updated_at=at,
                version=contract.version + 1,
            ),
            expected_version=contract.version,
            on_conflict=raced,
        )
        self.publish(
            uow,
            "contract.amendment-proposed",
            AmendmentProposed(
                **parties(contract),
                number=number,
                proposed_by_user_id=user_id,
                reason=proposal.reason,
                currency=contract.currency,
                total_minor=proposed.total_minor,
                previous_total_minor=previous.total_minor,
            ),
        )
        return amendment

    async def withdraw(
        self,
        company_id: str,
        user_id: str,
        contract_id: str,
        number: int,
        reason: str,
        uow: UnitOfWork,
    ) -> Amendment:
        """An open amendment, withdrawn by the client: the terms in force stay."""
        contract = await self.contracts.owned(company_id, contract_id)
        amendment = await self._get(contract.id, number)
        if amendment.already_moved_by("withdrawn", user_id):
            return amendment
        at = now_iso()
        moved = amendment.moved("withdrawn", at=at, actor_user_id=user_id, reason=reason)
        self.store.replace_amendment(uow, moved, expected_version=amendment.version)
        self._close(uow, contract, number, at)
        self.publish(
            uow,
            "contract.amendment-withdrawn",
            AmendmentWithdrawn(
                **parties(contract),
                number=number,
                by_user_id=user_id,
                reason=reason,
                client_signed=amendment.status == "client_signed",
            ),
        )
        return moved

    # -- reading -------------------------------------------------------------------

    async def visible(self, reader: Reader, contract_id: str, number: int) -> Amendment:
        contract = await self.contracts.visible(reader, contract_id)
        return await self._get(contract.id, number)

    async def page(
        self, reader: Reader, contract_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Amendment], str | None]:
        """The contract's amendments, oldest first: with its first terms, every version."""
        contract = await self.contracts.visible(reader, contract_id)
        scope = f"amendments:{contract.id}"
        items, last = await self.store.amendments_page(
            contract.id, limit, self.cursors.decode(cursor, scope)
        )
        return items, self.cursors.encode(last, scope)

    async def link(
        self, reader: Reader, contract_id: str, number: int, kind: PdfKind
    ) -> tuple[str, str, str]:
        amendment = await self.visible(reader, contract_id, number)
        if kind == "original":
            key, sha256 = amendment.pdf_key, amendment.pdf_sha256
        elif amendment.status == "fully_signed" and amendment.final_pdf_key is not None:
            key, sha256 = amendment.final_pdf_key, amendment.final_pdf_sha256 or ""
        else:
            raise DocumentNotFound("The signed amendment exists once both parties have signed")
        name = f"contract-{contract_id}-amendment-{number}-{kind}.pdf"
        url, expires_at = await self.documents.link(key, name)
        return url, expires_at, sha256

    # -- the signature service ---------------------------------------------------------

    async def for_signing(self, contract_id: str, number: int) -> tuple[Contract, Amendment]:
        contract = await self.contracts.get(contract_id)
        return contract, await self._get(contract.id, number)

    async def document(self, contract_id: str, number: int, kind: PdfKind) -> bytes:
        amendment = await self._get(contract_id, number)
        key = amendment.pdf_key if kind == "original" else amendment.final_pdf_key
        data = await self.documents.get(key) if key else None
        if data is None:
            raise DocumentNotFound()
        return data

    async def store_final(
        self, service: str, contract_id: str, number: int, data: bytes, uow: UnitOfWork
    ) -> Amendment:
        """The signed amendment: replaced freely while the contractor's signature
        is under way, afterwards only the same bytes again (a retry)."""
        if service != SIGNATURE_SERVICE:
            raise ServiceNotAllowed()
        if not data.startswith(b"%PDF-"):
            raise NotAPdf()
        amendment = await self._get(contract_id, number)
        sha256 = await digest(data)
        if not final_replaceable(amendment.status, amendment.final_pdf_sha256, sha256):
            return amendment
        key = document_key(contract_id, number, "final")
        await self.documents.put(key, data, sha256)
        stored = replace(
            amendment, final_pdf_key=key, final_pdf_sha256=sha256, version=amendment.version + 1
        )
        self.store.replace_amendment(uow, stored, expected_version=amendment.version)
        return stored

    async def transition(
        self,
        service: str,
        contract_id: str,
        number: int,
        *,
        to: AmendmentStatus,
        expected_version: int,
        actor_user_id: str,
        actor_company_id: str | None,
        reason: str | None,
        signature_ids: list[str],
        ledger_entry_ids: list[int],
        uow: UnitOfWork,
    ) -> tuple[Contract, Amendment]:
        """Move for the signature service, as ``ContractMoves.transition`` moves
        a contract; ``fully_signed`` puts the amendment in force, once more
        checking that it changes no funded item (ADR 0017)."""
        if service != SIGNATURE_SERVICE:
            raise ServiceNotAllowed()
        contract, amendment = await self.for_signing(contract_id, number)
        if amendment.already_moved_by(to, actor_user_id):
            return contract, amendment
        if amendment.version != expected_version:
            raise StaleVersion(f"The amendment is at version {amendment.version}")
        side: Side | None = None
        if actor_company_id is not None:
            side = "client" if actor_company_id == contract.client_company_id else None
        elif actor_user_id == contract.contractor_user_id:
            side = "contractor"
        if side is None or (side, to) not in PARTY_MOVES:
            raise InvalidTransition(f"This user is not the party who moves it to {to}")
        at = now_iso()
        if to != "fully_signed":
            moved = amendment.moved(to, at=at, actor_user_id=actor_user_id, reason=reason)
            self.store.replace_amendment(uow, moved, expected_version=amendment.version)
            if to == "declined":
                self._close(uow, contract, number, at)
            return contract, moved
        moved = amendment.moved(
            "fully_signed",
            at=at,
            actor_user_id=actor_user_id,
            in_force_at=at,
            signature_ids=tuple(signature_ids),
            ledger_entry_ids=tuple(ledger_entry_ids),
        )
        if amendment.final_pdf_sha256 is None:
            raise FinalDocumentMissing()
        check_in_force_possible(contract)
        check_funded(amendment.removed_item_ids, await self.payments.item_states(contract.id))
        amended = in_force(contract, moved, at=at)
        self.store.replace_amendment(uow, moved, expected_version=amendment.version)
        self.store.replace(uow, amended, expected_version=contract.version)
        self.publish(uow, "contract.amended", _amended(amended, moved))
        return amended, moved

    # -- helpers -----------------------------------------------------------------------

    async def _get(self, contract_id: str, number: int) -> Amendment:
        amendment = await self.store.amendment(contract_id, number)
        if amendment is None:
            raise AmendmentNotFound()
        return amendment

    def _close(self, uow: UnitOfWork, contract: Contract, number: int, at: str) -> None:
        if contract.open_amendment == number:
            self.store.replace(uow, closed(contract, at=at), expected_version=contract.version)


def _amended(contract: Contract, amendment: Amendment) -> ContractAmended:
    lines = schedule(contract.terms, contract.title)
    return ContractAmended(
        **parties(contract),
        number=amendment.number,
        terms_version=amendment.terms_version,
        currency=contract.currency,
        total_minor=contract.total_minor,
        previous_total_minor=amendment.previous.total_minor,
        review_days=contract.review_days,
        end_date=contract.end_date,
        schedule=[
            ScheduleItem(
                item_id=item,
                title=line.title,
                amount_minor=line.amount_minor,
                due_date=line.due_date,
            )
            for item, line in zip(amendment.proposed.item_ids, lines, strict=True)
        ],
        added_item_ids=list(amendment.added_item_ids),
        removed_item_ids=list(amendment.removed_item_ids),
        pdf_sha256=amendment.pdf_sha256,
        final_pdf_sha256=amendment.final_pdf_sha256 or "",
        signature_ids=list(amendment.signature_ids),
        ledger_entry_ids=list(amendment.ledger_entry_ids),
        amended_at=amendment.in_force_at or "",
    )
