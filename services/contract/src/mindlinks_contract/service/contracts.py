"""The contract service object: drafting (with the peers' checks and the PDF),
listing, the client's own moves (send, void) and templates; reading one
contract, the signature service's moves, the documents and the moves driven
by the ledger's and payment's events are ``service.moves``'.

No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from mindlinks_contract.documents import Documents, digest
from mindlinks_contract.domain import (
    Company,
    Contract,
    ContractNotFound,
    Contractor,
    DocumentNotFound,
    InvalidTransition,
    PdfKind,
    Reader,
    Template,
    TemplateNotFound,
    company_for_drafting,
    contractor_for,
    document_key,
    owned_by,
)
from mindlinks_contract.pdf import ContractDocument, render_contract
from mindlinks_contract.service.deadlines import SigningTimers, sent
from mindlinks_contract.service.drafts import DraftChanges
from mindlinks_contract.service.moves import ContractMoves
from mindlinks_contract.signing import Cadence
from mindlinks_contract.store import ContractStore
from mindlinks_contract.terms import (
    NOTICE_DAYS,
    REVIEW_DAYS,
    check_template,
    fill_template,
    schedule,
    total_minor,
)
from mindlinks_fleet.events import ContractCreated, ContractParties, ContractVoided
from mindlinks_fleet.internal.contract import Status
from mindlinks_kit import clock
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, UnitOfWork
from mindlinks_kit.runtime import Publish

log = structlog.get_logger("mindlinks.contracts")
SIGNED: tuple[Status, ...] = ("fully_signed", "active", "completed", "terminated")


class CompanyDirectory(Protocol):
    async def get(self, company_id: str) -> Company | None: ...


class ContractorDirectory(Protocol):
    async def get(self, contractor_id: str) -> Contractor | None: ...
    async def by_user(self, user_id: str) -> Contractor | None: ...


@dataclass(frozen=True)
class Draft:
    contractor_id: str
    title: str
    description: str
    currency: str
    start_date: str
    terms: dict[str, Any]
    template_id: str | None = None
    review_days: int = REVIEW_DAYS
    notice_days: int = NOTICE_DAYS
    cadence: Cadence = field(default_factory=Cadence)
    end_date: str | None = None


def parties(contract: Contract) -> dict[str, str]:
    return {
        "contract_id": contract.id,
        "title": contract.title,
        "client_company_id": contract.client_company_id,
        "client_user_id": contract.client_user_id,
        "contractor_id": contract.contractor_id,
        "contractor_user_id": contract.contractor_user_id,
    }


class Contracts(DraftChanges, ContractMoves):
    """The client's use cases here; changing a draft's terms comes from
    ``DraftChanges``, reading one contract and the moves other services drive
    from ``ContractMoves``."""

    def __init__(
        self,
        *,
        store: ContractStore,
        documents: Documents,
        companies: CompanyDirectory,
        contractors: ContractorDirectory,
        publish: Publish,
        cursors: CursorCodec,
        signing: SigningTimers,
    ) -> None:
        self.store = store
        self.documents = documents
        self.companies = companies
        self.contractors = contractors
        self.publish = publish
        self.cursors = cursors
        self.signing = signing

    # -- the client drafts ---------------------------------------------------

    async def draft(self, company_id: str, user_id: str, draft: Draft, uow: UnitOfWork) -> Contract:
        """Check the parties, render and store the PDF, add the contract and
        ``contract.created`` to ``uow``: the company's contract, drafted by
        ``user_id``. The PDF is stored before the commit: a failed commit
        leaves an unreferenced object under a fresh id, never a contract
        without its document."""
        company = company_for_drafting(await self.companies.get(company_id))
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
                review_days=draft.review_days,
                notice_days=draft.notice_days,
                end_date=draft.end_date,
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
            review_days=draft.review_days,
            notice_days=draft.notice_days,
            signing_days=draft.cadence.signing_days,
            reminder_after_days=draft.cadence.reminder_after_days,
            reminder_every_days=draft.cadence.reminder_every_days,
            end_date=draft.end_date,
        )
        self.store.add(uow, contract)
        self.publish(
            uow,
            "contract.created",
            ContractCreated(**parties(contract), currency=contract.currency, total_minor=total),
        )
        return contract

    # -- reading -------------------------------------------------------------

    async def visible(self, reader: Reader, contract_id: str) -> Contract:
        """A party's or an admin's; anyone else learns nothing, not even that it exists."""
        contract = await self.store.contract(contract_id)
        if contract is None or not contract.visible_to(reader):
            raise ContractNotFound()
        return contract

    async def owned(self, company_id: str, contract_id: str) -> Contract:
        """The company's own contract (whichever member drafted it)."""
        return owned_by(await self.store.contract(contract_id), company_id)

    async def page(
        self, reader: Reader, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Contract], str | None]:
        """A member's company's contracts or a contractor's own, newest first."""
        owner: tuple[str, str, str] | None
        if reader.company_id is not None:
            owner = ("by-company", "clientCompanyId", reader.company_id)
        else:
            contractor = await self.contractors.by_user(reader.user_id)
            owner = ("by-contractor", "contractorId", contractor.id) if contractor else None
        who = reader.company_id or reader.user_id
        scope = f"contracts:{who}:{reader.role}:{status or '*'}"
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

    async def link(self, reader: Reader, contract_id: str, kind: PdfKind) -> tuple[str, str, str]:
        """A short-lived download link: (url, expiresAt, sha256)."""
        contract = await self.visible(reader, contract_id)
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

    async def send(
        self, company_id: str, user_id: str, contract_id: str, uow: UnitOfWork
    ) -> Contract:
        """``draft`` → ``sent_for_signature``: its signing deadline and first
        reminder run from now (their timers set in the same transaction)."""
        contract = await self.owned(company_id, contract_id)
        now = clock.now()
        moved = contract.moved(
            "sent_for_signature",
            at=clock.iso(now),
            actor_user_id=user_id,
            sent_by_user_id=user_id,
            **sent(contract, now),
        )
        await self.forget_first_original(contract)
        self.store.replace(uow, moved, expected_version=contract.version)
        self.signing.start(uow, moved)
        self.publish(uow, "contract.sent-for-signature", ContractParties(**parties(moved)))
        return moved

    async def lost_race(self, company_id: str, user_id: str, contract_id: str, to: Status) -> None:
        """After a move's commit lost to a concurrent write: when that write was
        this same move by this same user (a retry racing its first attempt),
        say so as a second move would hear it; else let the stale version stand."""
        contract = await self.owned(company_id, contract_id)
        if contract.already_moved_by(to, user_id):
            raise InvalidTransition(f"The contract is already {to}")

    async def void(
        self, company_id: str, user_id: str, contract_id: str, reason: str, uow: UnitOfWork
    ) -> Contract:
        contract = await self.owned(company_id, contract_id)
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
        self.signing.stop(uow, contract)
        self.publish(uow, "contract.voided", ContractVoided(**parties(moved), reason=reason))
        return moved

    # -- templates -----------------------------------------------------------------

    async def templates(
        self, company_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Template], str | None]:
        scope = f"templates:{company_id}"
        start = self.cursors.decode(cursor, scope)
        items, last = await self.store.templates_page(company_id, limit, start)
        return items, self.cursors.encode(last, scope)

    async def add_template(
        self, company_id: str, user_id: str, name: str, body: str, uow: UnitOfWork
    ) -> Template:
        check_template(body)
        template = Template(
            id=uuid.uuid4().hex,
            company_id=company_id,
            name=name,
            body=body,
            created_by_user_id=user_id,
            created_at=now_iso(),
        )
        self.store.add_template(uow, template)
        return template
