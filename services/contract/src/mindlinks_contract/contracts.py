"""The contract service object: drafting (with the peers' checks and the PDF),
listing, the client's own moves (send, void), the signature service's moves,
the documents, and the moves driven by the ledger's and payment's events.

No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog
from pydantic import BaseModel

from mindlinks_contract.documents import Documents, digest
from mindlinks_contract.domain import (
    SIGNATURE_SERVICE,
    Company,
    CompanyRequired,
    Contract,
    ContractNotFound,
    Contractor,
    DocumentNotFound,
    InvalidTransition,
    NotAPdf,
    PdfKind,
    ServiceNotAllowed,
    Template,
    TemplateNotFound,
    check_template,
    company_for_drafting,
    contractor_for,
    document_key,
    fill_template,
    final_document_accepted,
    schedule,
    signature_may_move,
    total_minor,
)
from mindlinks_contract.pdf import ContractDocument, render_contract
from mindlinks_contract.store import ContractStore
from mindlinks_fleet.events import (
    ContractActivated,
    ContractCreated,
    ContractParties,
    ContractVoided,
    PaymentReleased,
)
from mindlinks_fleet.internal.contract import Status
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, StaleVersion, UnitOfWork

log = structlog.get_logger("mindlinks.contracts")
Publish = Callable[[UnitOfWork, str, BaseModel], object]
SIGNED: tuple[Status, ...] = ("fully_signed", "active", "completed")


class CompanyDirectory(Protocol):
    async def by_owner(self, user_id: str) -> Company | None: ...


class ContractorDirectory(Protocol):
    async def get(self, contractor_id: str) -> Contractor | None: ...
    async def by_user(self, user_id: str) -> Contractor | None: ...


class UnexpectedEvent(Exception):
    """An event that does not fit the contract (yet): retried, then dead-lettered."""


@dataclass(frozen=True)
class Draft:
    contractor_id: str
    title: str
    description: str
    currency: str
    start_date: str
    terms: dict[str, Any]
    template_id: str | None = None


def parties(contract: Contract) -> dict[str, str]:
    return {
        "contract_id": contract.id,
        "title": contract.title,
        "client_company_id": contract.client_company_id,
        "client_user_id": contract.client_user_id,
        "contractor_id": contract.contractor_id,
        "contractor_user_id": contract.contractor_user_id,
    }


class Contracts:
    def __init__(
        self,
        *,
        store: ContractStore,
        documents: Documents,
        companies: CompanyDirectory,
        contractors: ContractorDirectory,
        publish: Publish,
        cursors: CursorCodec,
    ) -> None:
        self.store = store
        self.documents = documents
        self.companies = companies
        self.contractors = contractors
        self.publish = publish
        self.cursors = cursors

    # -- the client drafts ---------------------------------------------------

    async def draft(self, user_id: str, draft: Draft, uow: UnitOfWork) -> Contract:
        """Check the parties, render and store the PDF, add the contract and
        ``contract.created`` to ``uow``. The PDF is stored before the commit: a
        failed commit leaves an unreferenced object under a fresh id, never a
        contract without its document."""
        company = company_for_drafting(await self.companies.by_owner(user_id))
        contractor = contractor_for(company, await self.contractors.get(draft.contractor_id))
        agreement = None
        if draft.template_id is not None:
            template = await self.store.template(draft.template_id)
            if template is None or template.company_id != company.id:
                raise TemplateNotFound()
            agreement = fill_template(
                template.body,
                {
                    "clientName": company.legal_name,
                    "contractorName": contractor.legal_name,
                    "title": draft.title,
                    "startDate": draft.start_date,
                },
            )
        contract_id = uuid.uuid4().hex
        at = now_iso()
        total = total_minor(draft.terms)
        pdf = await asyncio.to_thread(
            render_contract,
            ContractDocument(
                contract_id=contract_id,
                title=draft.title,
                description=draft.description,
                client_name=company.legal_name,
                client_company_id=company.id,
                contractor_name=contractor.legal_name,
                contractor_email=contractor.email,
                currency=draft.currency,
                start_date=draft.start_date,
                lines=schedule(draft.terms, draft.title),
                total_minor=total,
                issued_at=at[:10],
                agreement=agreement,
            ),
        )
        sha256 = await digest(pdf)
        key = document_key(contract_id, "original")
        await self.documents.put(key, pdf, sha256)
        contract = Contract(
            id=contract_id,
            status="draft",
            title=draft.title,
            description=draft.description,
            currency=draft.currency,
            start_date=draft.start_date,
            terms=draft.terms,
            total_minor=total,
            template_id=draft.template_id,
            client_company_id=company.id,
            client_user_id=user_id,
            client_name=company.legal_name,
            contractor_id=contractor.id,
            contractor_user_id=contractor.user_id,
            contractor_name=contractor.legal_name,
            pdf_key=key,
            pdf_sha256=sha256,
            created_at=at,
            updated_at=at,
        )
        self.store.add(uow, contract)
        self.publish(
            uow,
            "contract.created",
            ContractCreated(**parties(contract), currency=contract.currency, total_minor=total),
        )
        return contract

    # -- reading -------------------------------------------------------------

    async def get(self, contract_id: str) -> Contract:
        contract = await self.store.contract(contract_id)
        if contract is None:
            raise ContractNotFound()
        return contract

    async def visible(self, user_id: str, role: str, contract_id: str) -> Contract:
        """A party's or an admin's; anyone else learns nothing, not even that it exists."""
        contract = await self.store.contract(contract_id)
        if contract is None or not contract.visible_to(user_id, role):
            raise ContractNotFound()
        return contract

    async def owned(self, user_id: str, contract_id: str) -> Contract:
        """The drafting client's own contract."""
        contract = await self.store.contract(contract_id)
        if contract is None or contract.client_user_id != user_id:
            raise ContractNotFound()
        return contract

    async def page(
        self, user_id: str, role: str, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Contract], str | None]:
        """A client's company's contracts or a contractor's own, newest first."""
        if role == "client":
            company = await self.companies.by_owner(user_id)
            owner = ("by-company", "clientCompanyId", company.id) if company else None
        else:
            contractor = await self.contractors.by_user(user_id)
            owner = ("by-contractor", "contractorId", contractor.id) if contractor else None
        scope = f"contracts:{user_id}:{role}:{status or '*'}"
        start = self.cursors.decode(cursor, scope)
        if owner is None:
            return [], None
        index, key, value = owner
        items, last = await self.store.page(
            index=index,
            key=key,
            value=value,
            where={"status": status} if status else {},
            limit=limit,
            start=start,
        )
        return items, self.cursors.encode(last, scope)

    async def link(
        self, user_id: str, role: str, contract_id: str, kind: PdfKind
    ) -> tuple[str, str, str]:
        """A short-lived download link: (url, expiresAt, sha256)."""
        contract = await self.visible(user_id, role, contract_id)
        if kind == "original":
            key, sha256 = contract.pdf_key, contract.pdf_sha256
        elif (
            contract.status in SIGNED
            and contract.final_pdf_key is not None
            and contract.final_pdf_sha256 is not None
        ):
            key, sha256 = contract.final_pdf_key, contract.final_pdf_sha256
        else:
            raise DocumentNotFound("The signed document exists once both parties have signed")
        url, expires_at = await self.documents.link(key, f"contract-{contract.id}-{kind}.pdf")
        return url, expires_at, sha256

    # -- the client's moves ----------------------------------------------------

    async def send(self, user_id: str, contract_id: str, uow: UnitOfWork) -> Contract:
        contract = await self.owned(user_id, contract_id)
        moved = contract.moved("sent_for_signature", at=now_iso(), actor_user_id=user_id)
        self.store.replace(uow, moved, expected_version=contract.version)
        self.publish(uow, "contract.sent-for-signature", ContractParties(**parties(moved)))
        return moved

    async def lost_race(self, user_id: str, contract_id: str, to: Status) -> None:
        """After a move's commit lost to a concurrent write: when that write was
        this same move by this same user (a retry racing its first attempt),
        say so as a second move would hear it; else let the stale version stand."""
        contract = await self.owned(user_id, contract_id)
        if contract.already_moved_by(to, user_id):
            raise InvalidTransition(f"The contract is already {to}")

    async def void(self, user_id: str, contract_id: str, reason: str, uow: UnitOfWork) -> Contract:
        contract = await self.owned(user_id, contract_id)
        return self.move_to_voided(contract, reason, uow, user_id)

    def move_to_voided(
        self,
        contract: Contract,
        reason: str,
        uow: UnitOfWork,
        actor_user_id: str,
        *,
        by_admin: bool = False,
    ) -> Contract:
        """``voided`` (the client's move, or an admin's through the admin service),
        conditional on the version read, with ``contract.voided`` in ``uow``."""
        moved = contract.moved(
            "voided",
            at=now_iso(),
            actor_user_id=actor_user_id,
            reason=reason,
            actor_service="admin" if by_admin else None,
        )
        self.store.replace(uow, moved, expected_version=contract.version)
        self.publish(uow, "contract.voided", ContractVoided(**parties(moved), reason=reason))
        return moved

    # -- the signature service's moves -------------------------------------------

    async def document(self, contract_id: str, kind: PdfKind) -> bytes:
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
    ) -> Contract:
        """Move for the signature service. The same move repeated by the same
        actor (a retry after a crash) answers the contract as it is."""
        if service != SIGNATURE_SERVICE:
            raise ServiceNotAllowed()
        contract = await self.get(contract_id)
        if contract.already_moved_by(to, actor_user_id):
            return contract
        if contract.version != expected_version:
            raise StaleVersion(f"The contract is at version {contract.version}")
        signature_may_move(contract, to)
        signer = {
            "client_signed": contract.client_user_id,
            "fully_signed": contract.contractor_user_id,
        }.get(to)
        if not contract.is_party(actor_user_id) or signer not in (None, actor_user_id):
            raise InvalidTransition(f"This user is not the party who moves it to {to}")
        moved = contract.moved(
            to,
            at=now_iso(),
            actor_user_id=actor_user_id,
            reason=reason,
            actor_service=service,
        )
        self.store.replace(uow, moved, expected_version=contract.version)
        return moved

    # -- moves driven by events -----------------------------------------------------

    async def on_activated(self, event: ContractActivated, uow: UnitOfWork) -> None:
        """``ledger.contract-activated`` → ``active`` (once)."""
        contract = await self.store.contract(event.contract_id)
        if contract is None:
            raise UnexpectedEvent(f"unknown contract {event.contract_id}")
        if contract.status in ("active", "completed"):
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

    async def on_released(self, event: PaymentReleased, uow: UnitOfWork) -> None:
        """``payment.released`` with every item released → ``completed`` (once)."""
        if not event.all_released:
            return
        contract = await self.store.contract(event.contract_id)
        if contract is None:
            raise UnexpectedEvent(f"unknown contract {event.contract_id}")
        if contract.status == "completed":
            return
        if contract.status != "active":
            # Events can overtake each other: the activation may still be on its way.
            raise UnexpectedEvent(f"completion of a {contract.status} contract")
        at = now_iso()
        moved = contract.moved(
            "completed", at=at, actor_user_id=None, actor_service="payment", completed_at=at
        )
        self.store.replace(uow, moved, expected_version=contract.version)

    # -- templates -----------------------------------------------------------------

    async def templates(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Template], str | None]:
        scope = f"templates:{user_id}"
        start = self.cursors.decode(cursor, scope)
        company = await self.companies.by_owner(user_id)
        if company is None:
            return [], None
        items, last = await self.store.templates_page(company.id, limit, start)
        return items, self.cursors.encode(last, scope)

    async def add_template(self, user_id: str, name: str, body: str, uow: UnitOfWork) -> Template:
        check_template(body)
        company = await self.companies.by_owner(user_id)
        if company is None:
            raise CompanyRequired()
        template = Template(
            id=uuid.uuid4().hex,
            company_id=company.id,
            name=name,
            body=body,
            created_by_user_id=user_id,
            created_at=now_iso(),
        )
        self.store.add_template(uow, template)
        return template
