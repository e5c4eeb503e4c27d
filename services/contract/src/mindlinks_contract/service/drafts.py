"""Changing a draft: its escrow terms (``reviewDays``, ``noticeDays``), with
the PDF rendered again since it states them, and its signing terms
(``signingDays`` and the reminders' cadence, issue 16), which the PDF does
not state. ``Contracts`` takes it from ``DraftChanges``.

The new PDF goes under a key of its own (``redrafted_key``) before the
commit, as drafting stores the first one: a failed commit leaves an
unreferenced object, never a contract whose document says other terms. The
first original stays where drafting put it until the draft is sent, which
removes it (``forget_first_original``): the signature service's reads of the
original go there first and must then miss, and fall back to the contract.

No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from mindlinks_contract.documents import Documents, digest
from mindlinks_contract.domain import (
    Contract,
    ContractNotDraft,
    ContractNotFound,
    ContractorNotFound,
    document_key,
    redrafted_key,
)
from mindlinks_contract.pdf import ContractDocument, render_contract
from mindlinks_contract.signing import Cadence
from mindlinks_contract.store import ContractStore
from mindlinks_contract.terms import fill_template, schedule
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork

if TYPE_CHECKING:
    from mindlinks_contract.service.contracts import ContractorDirectory


class DraftChanges:
    store: ContractStore
    documents: Documents
    contractors: ContractorDirectory

    async def change_terms(
        self,
        company_id: str,
        contract_id: str,
        *,
        version: int,
        review_days: int | None,
        notice_days: int | None,
        uow: UnitOfWork,
        signing_days: int | None = None,
        reminder_after_days: int | None = None,
        reminder_every_days: int | None = None,
    ) -> Contract:
        """The company's draft at ``version`` with the terms given (``None``:
        as they are) and its PDF rendered again; unchanged terms change nothing."""
        contract = await self.store.contract(contract_id)
        if contract is None or contract.client_company_id != company_id:
            raise ContractNotFound()
        if contract.status != "draft":
            raise ContractNotDraft(f"The contract is {contract.status}")
        if contract.version != version:
            raise StaleVersion(f"The contract is at version {contract.version}")
        review = contract.review_days if review_days is None else review_days
        notice = contract.notice_days if notice_days is None else notice_days
        cadence = Cadence(
            contract.signing_days if signing_days is None else signing_days,
            contract.reminder_after_days if reminder_after_days is None else reminder_after_days,
            contract.reminder_every_days if reminder_every_days is None else reminder_every_days,
        )
        unchanged = (contract.review_days, contract.notice_days, contract.cadence)
        if (review, notice, cadence) == unchanged:
            return contract
        at = now_iso()
        changed = replace(
            contract,
            review_days=review,
            notice_days=notice,
            signing_days=cadence.signing_days,
            reminder_after_days=cadence.reminder_after_days,
            reminder_every_days=cadence.reminder_every_days,
            updated_at=at,
            version=contract.version + 1,
        )
        if (review, notice) == (contract.review_days, contract.notice_days):
            # The document does not state the signing terms: it stays as it is.
            self.store.replace(uow, changed, expected_version=contract.version)
            return changed
        pdf = await asyncio.to_thread(render_contract, await self.document_of(changed, at))
        sha256 = await digest(pdf)
        key = redrafted_key(contract.id, changed.version)
        await self.documents.put(key, pdf, sha256)
        changed = replace(changed, pdf_key=key, pdf_sha256=sha256)
        self.store.replace(uow, changed, expected_version=contract.version)
        return changed

    async def forget_first_original(self, contract: Contract) -> None:
        """Before a redrafted contract is sent: the first original goes, so no
        read of the fixed key can find a document the contract no longer names."""
        first = document_key(contract.id, "original")
        if contract.pdf_key != first:
            await self.documents.delete(first)

    async def document_of(self, contract: Contract, at: str) -> ContractDocument:
        """What ``contract``'s PDF shows as it stands (an amendment's shows its terms)."""
        contractor = await self.contractors.get(contract.contractor_id)
        if contractor is None:
            raise ContractorNotFound()
        agreement = None
        if contract.template_id is not None:
            # Templates never change, and the values are the ones drafting used.
            template = await self.store.template(contract.template_id)
            if template is not None:
                agreement = fill_template(
                    template.body,
                    {
                        "clientName": contract.client_name,
                        "contractorName": contract.contractor_name,
                        "title": contract.title,
                        "startDate": contract.start_date,
                    },
                )
        return ContractDocument(
            contract_id=contract.id,
            title=contract.title,
            description=contract.description,
            client_name=contract.client_name,
            client_company_id=contract.client_company_id,
            contractor_name=contract.contractor_name,
            contractor_email=contractor.email,
            currency=contract.currency,
            start_date=contract.start_date,
            lines=schedule(contract.terms, contract.title),
            total_minor=contract.total_minor,
            issued_at=at[:10],
            agreement=agreement,
            review_days=contract.review_days,
            notice_days=contract.notice_days,
            end_date=contract.end_date,
        )
