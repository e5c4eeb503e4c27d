"""Contract routes: thin — parse, authorize, call the service object, respond."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from mindlinks_contract.deps import ContractDeps, Deps
from mindlinks_contract.domain import Contract, PdfKind, Reader
from mindlinks_contract.schemas import (
    ContractIn,
    DocumentLink,
    DraftTermsIn,
    ReminderOut,
    SigningDeadlineIn,
    TemplateIn,
    TemplateOut,
    TerminationIn,
    VoidIn,
    contract_out,
)
from mindlinks_contract.service.contracts import Draft
from mindlinks_fleet.events import SigningReminder
from mindlinks_fleet.internal import contract
from mindlinks_fleet.internal.contract import (
    AdminVoidIn,
    ContractOut,
    FinalDocumentOut,
    Status,
    TransitionIn,
)
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import Internal
from mindlinks_kit.bodies import read_limited
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork
from mindlinks_kit.errors import Problem
from mindlinks_kit.idempotency import IdempotencyKey, fingerprint
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting, acting_or

public = APIRouter(prefix="/v1/contracts", tags=["contracts"])
internal = APIRouter()
Drafter = Annotated[Acting, Depends(acting("contracts.draft"))]
"""A member whose company role drafts, sends and voids its contracts."""
Party = Annotated[Acting, Depends(acting_or("contracts.read", "contractor"))]
Reading = Annotated[Acting, Depends(acting_or("contracts.read", "contractor", "admin"))]
Terminating = Annotated[Acting, Depends(acting_or("contracts.draft", "contractor"))]
"""A member whose company role manages its contracts, or a contractor (its own only)."""


def company_of(user: Acting) -> str:
    assert user.tenant_id is not None  # acting(...) lets members only in
    return user.tenant_id


def reader_of(user: Acting) -> Reader:
    return Reader(user.user_id, user.principal.role, user.tenant_id)


class DocumentTooLarge(Problem):
    status = 413
    code = "document-too-large"
    title = "The document is too large"


@public.get("/templates")
async def list_templates(
    user: Drafter, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[TemplateOut]:
    """The caller's company's templates, newest first."""
    items, next_cursor = await deps.contracts.templates(company_of(user), limit, cursor)
    return Page[TemplateOut](items=[TemplateOut.of(t) for t in items], next_cursor=next_cursor)


@public.post("/templates", status_code=201)
async def create_template(
    body: TemplateIn, user: Drafter, deps: Deps, uow: Transaction
) -> TemplateOut:
    """A template for the company's contracts: ``{{clientName}}``,
    ``{{contractorName}}``, ``{{title}}`` and ``{{startDate}}`` are filled in."""
    template = await deps.contracts.add_template(
        company_of(user), user.user_id, body.name, body.body, uow
    )
    return TemplateOut.of(template)


@public.post("", status_code=201, response_model=ContractOut)
async def create_contract(
    body: ContractIn, request: Request, user: Drafter, deps: Deps, key: IdempotencyKey = None
) -> JSONResponse:
    """Draft a contract with a contractor engaged with (and verified for) the
    caller's active company; its PDF is rendered and stored. Repeat safely with
    an ``Idempotency-Key``."""
    wire = body.wire()
    draft = Draft(
        contractor_id=body.contractor_id,
        title=body.title,
        description=body.description,
        currency=body.currency,
        start_date=wire["startDate"],
        end_date=wire.get("endDate"),
        terms=wire["terms"],
        template_id=body.template_id,
        review_days=body.review_days,
        notice_days=body.notice_days,
        cadence=body.cadence(),
    )

    async def action(uow: UnitOfWork) -> tuple[int, Any]:
        contract = await deps.contracts.draft(company_of(user), user.user_id, draft, uow)
        return 201, contract_out(contract).model_dump(mode="json", by_alias=True)

    return await deps.runtime.idempotency.run(
        key,
        scope=f"{user.user_id}:{company_of(user)}",
        request_fingerprint=fingerprint("POST", request.url.path, wire),
        action=action,
    )


@public.get("")
async def list_contracts(
    user: Party,
    deps: Deps,
    status: Annotated[Status | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[ContractOut]:
    """A client's company's contracts or a contractor's own, newest first."""
    items, next_cursor = await deps.contracts.page(reader_of(user), status, limit, cursor)
    return Page[ContractOut](items=[contract_out(c) for c in items], next_cursor=next_cursor)


@public.get("/{contract_id}")
async def get_contract(contract_id: Id, user: Reading, deps: Deps) -> ContractOut:
    """The client company's members, the contractor's or an admin's; anyone
    else gets 404, as for an unknown id."""
    return contract_out(await deps.contracts.visible(reader_of(user), contract_id))


@public.get("/{contract_id}/pdf")
async def get_pdf(
    contract_id: Id,
    user: Reading,
    deps: Deps,
    kind: Annotated[PdfKind, Query()] = "original",
) -> DocumentLink:
    """A presigned download link (valid 5 minutes) and the document's SHA-256;
    ``kind=final`` is the signed document with its certificate of completion."""
    url, expires_at, sha256 = await deps.contracts.link(reader_of(user), contract_id, kind)
    return DocumentLink(url=url, expires_at=expires_at, sha256=sha256, kind=kind)


@public.patch("/{contract_id}")
async def change_draft_terms(
    contract_id: Id, body: DraftTermsIn, user: Drafter, deps: Deps
) -> ContractOut:
    """Change a draft's ``reviewDays``, ``noticeDays`` (its PDF is rendered
    again), ``signingDays``, ``reminderAfterDays`` or ``reminderEveryDays``
    at the ``version`` last read (409 ``stale-version`` otherwise). Once sent
    it is what the parties sign: 409 ``contract-not-draft``."""
    uow = deps.runtime.uow()
    contract = await deps.contracts.change_terms(
        company_of(user),
        contract_id,
        version=body.version,
        review_days=body.review_days,
        notice_days=body.notice_days,
        signing_days=body.signing_days,
        reminder_after_days=body.reminder_after_days,
        reminder_every_days=body.reminder_every_days,
        uow=uow,
    )
    await uow.commit()
    return contract_out(contract)


@public.post("/{contract_id}/send")
async def send_contract(contract_id: Id, user: Drafter, deps: Deps) -> ContractOut:
    """``draft`` → ``sent_for_signature``; the signing deadline (now +
    ``signingDays``) and the reminders' cadence start."""
    uow = deps.runtime.uow()
    contract = await deps.contracts.send(company_of(user), user.user_id, contract_id, uow)
    await _commit_move(deps, uow, user, contract_id, "sent_for_signature")
    return contract_out(contract)


@public.post("/{contract_id}/void")
async def void_contract(contract_id: Id, body: VoidIn, user: Drafter, deps: Deps) -> ContractOut:
    """``draft``/``sent_for_signature``/``client_signed`` → ``voided``."""
    uow = deps.runtime.uow()
    contract = await deps.contracts.void(
        company_of(user), user.user_id, contract_id, body.reason, uow
    )
    await _commit_move(deps, uow, user, contract_id, "voided")
    return contract_out(contract)


@public.post("/{contract_id}/termination")
async def terminate_contract(
    contract_id: Id, body: TerminationIn, user: Terminating, deps: Deps
) -> ContractOut:
    """Either party ends an ``active`` contract: at once (``atOnce``, or the
    contract gives no notice) → ``terminated``; otherwise it stays ``active``
    until ``terminationEndsAt`` (now + ``noticeDays``) and ends then. While a
    notice runs only ``atOnce`` is accepted, which ends it now (else 409
    ``termination-already-scheduled``)."""

    async def stage(uow: UnitOfWork) -> Contract:
        return await deps.endings.terminate(
            reader_of(user), contract_id, body.reason, at_once=body.at_once, uow=uow
        )

    return contract_out(await deps.runtime.commit_retrying(stage))


@public.post("/{contract_id}/reminders", status_code=202, response_model=ReminderOut)
async def send_reminder(
    contract_id: Id, request: Request, user: Drafter, deps: Deps, key: IdempotencyKey = None
) -> JSONResponse:
    """Remind whoever must sign next now (the member who sent it, then the
    contractor); the mail follows. Not within 24 hours of the last reminder,
    scheduled or not: 409 ``reminder-too-soon``. Only while a signature is
    awaited: 409 ``contract-not-awaiting-signature``, or ``contract-expired``
    once the deadline has passed. Repeat safely with an ``Idempotency-Key``
    (the same reminder again, not a 409)."""

    async def stage(uow: UnitOfWork) -> tuple[Contract, SigningReminder]:
        return await deps.deadlines.remind_now(company_of(user), contract_id, uow)

    def answer(staged: tuple[Contract, SigningReminder]) -> dict[str, Any]:
        contract, reminder = staged
        out = ReminderOut(
            contract_id=contract.id,
            reminder_no=reminder.reminder_no,
            to_side=reminder.to_side,
            to_user_id=reminder.to_user_id,
            signing_deadline=reminder.signing_deadline,
            manual=reminder.manual,
            sent_at=contract.last_reminder_at or "",
        )
        return out.model_dump(mode="json", by_alias=True)

    if key is None:
        # A reminder firing meanwhile changes the version: read again, decide again.
        return JSONResponse(answer(await deps.runtime.commit_retrying(stage)), status_code=202)

    async def action(uow: UnitOfWork) -> tuple[int, Any]:
        return 202, answer(await stage(uow))

    return await deps.runtime.idempotency.run(
        key,
        scope=f"reminders:{user.user_id}:{company_of(user)}",
        request_fingerprint=fingerprint("POST", request.url.path, {}),
        action=action,
    )


@public.post("/{contract_id}/signing-deadline")
async def extend_signing_deadline(
    contract_id: Id, body: SigningDeadlineIn, user: Drafter, deps: Deps
) -> ContractOut:
    """Move the signing deadline later before it passes: later than the
    current one, in the future, at most 90 days from now (422
    ``invalid-signing-deadline``); 409 ``contract-expired`` once it has passed.
    The reminders go on to the new deadline; whoever must sign next is told."""

    async def stage(uow: UnitOfWork) -> Contract:
        return await deps.deadlines.extend(
            company_of(user), user.user_id, contract_id, body.signing_deadline, uow
        )

    return contract_out(await deps.runtime.commit_retrying(stage))


async def _commit_move(
    deps: ContractDeps, uow: UnitOfWork, user: Acting, contract_id: str, to: Status
) -> None:
    try:
        await uow.commit()
    except StaleVersion:
        await deps.contracts.lost_race(company_of(user), user.user_id, contract_id, to)
        raise


@serve(internal, contract.CONTRACTS)
async def internal_contracts(
    deps: Deps,
    status: Annotated[Status | None, Query()] = None,
    company_id: Annotated[Id | None, Query(alias="companyId")] = None,
    contractor_id: Annotated[Id | None, Query(alias="contractorId")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[ContractOut]:
    """Contracts across tenants (the admin service): newest first when filtered,
    in the table's order when not."""
    items, next_cursor = await deps.operations.page(
        status=status,
        company_id=company_id,
        contractor_id=contractor_id,
        limit=limit,
        cursor=cursor,
    )
    return Page[ContractOut](items=[contract_out(c) for c in items], next_cursor=next_cursor)


@serve(internal, contract.VOID)
async def internal_void(contract_id: Id, body: AdminVoidIn, deps: Deps) -> ContractOut:
    """An admin voids a contract before it is fully signed.
    A concurrent change makes it re-read and decide again; voiding a voided
    contract answers it as it is."""

    async def stage(uow: UnitOfWork) -> Contract:
        return await deps.operations.void(contract_id, body.reason, body.actor_user_id, uow)

    return contract_out(await deps.runtime.commit_retrying(stage))


@serve(internal, contract.CONTRACT)
async def internal_contract(contract_id: Id, deps: Deps) -> ContractOut:
    return contract_out(await deps.contracts.get(contract_id))


@serve(
    internal,
    contract.DOCUMENT,
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def internal_document(
    contract_id: Id, deps: Deps, kind: Annotated[PdfKind, Query()] = "original"
) -> Response:
    """The PDF bytes (the signature service checks them against ``pdfSha256``)."""
    data = await deps.contracts.document(contract_id, kind)
    return Response(content=data, media_type="application/pdf")


@serve(
    internal,
    contract.FINAL_DOCUMENT,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def internal_store_final(
    contract_id: Id, request: Request, caller: Internal, deps: Deps
) -> FinalDocumentOut:
    """The signed document (raw PDF body); only the signature service."""
    data = await read_limited(request, deps.settings.max_document_bytes, DocumentTooLarge)
    uow = deps.runtime.uow()
    contract = await deps.contracts.store_final(caller.service, contract_id, data, uow)
    await uow.commit()
    return FinalDocumentOut(sha256=contract.final_pdf_sha256 or "", version=contract.version)


@serve(internal, contract.TRANSITION)
async def internal_transition(
    contract_id: Id, body: TransitionIn, caller: Internal, deps: Deps
) -> ContractOut:
    """Move a contract on a signature or a decline; only the signature service."""
    uow = deps.runtime.uow()
    contract = await deps.contracts.transition(
        caller.service,
        contract_id,
        to=body.to,
        expected_version=body.expected_version,
        actor_user_id=body.actor_user_id,
        actor_company_id=body.actor_company_id,
        reason=body.reason,
        uow=uow,
    )
    await uow.commit()
    return contract_out(contract)
