"""Amendment routes (issue 16, ADR 0017): thin — parse, authorize, call
``service.amendments``, respond."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from mindlinks_contract.amendment_schemas import (
    AmendmentIn,
    AmendmentNumber,
    AmendmentOut,
    WithdrawIn,
    for_signing,
)
from mindlinks_contract.api import DocumentTooLarge, Drafter, Reading, company_of, reader_of
from mindlinks_contract.deps import Deps
from mindlinks_contract.domain import PdfKind
from mindlinks_contract.schemas import DocumentLink
from mindlinks_fleet.internal import contract
from mindlinks_fleet.internal.contract import (
    AmendmentForSigning,
    AmendmentTransitionIn,
    FinalDocumentOut,
)
from mindlinks_kit.auth import Internal
from mindlinks_kit.bodies import read_limited
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.idempotency import IdempotencyKey, fingerprint
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page

public = APIRouter(prefix="/v1/contracts", tags=["contracts"])
internal = APIRouter()


@public.post("/{contract_id}/amendments", status_code=201, response_model=AmendmentOut)
async def propose_amendment(
    contract_id: Id,
    body: AmendmentIn,
    request: Request,
    user: Drafter,
    deps: Deps,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Propose amendment ``n`` of an ``active`` contract: a new scope, end date
    or payment schedule, with the reason. Its PDF is the whole contract as
    amended; the client signs it first, then the contractor, each with a
    step-up for ``amendment-sign:<contractId>-a<n>``; until then the terms in
    force stay. One open amendment at a time (409 ``amendment-open``); a
    funded or settled payment must be kept exactly as it is (409
    ``amendment-changes-funded-item``). Repeat safely with an ``Idempotency-Key``."""
    proposal = body.proposal()

    async def action(uow: UnitOfWork) -> tuple[int, Any]:
        amendment = await deps.amendments.propose(
            company_of(user), user.user_id, contract_id, proposal, uow
        )
        return 201, AmendmentOut.of(amendment).model_dump(mode="json", by_alias=True)

    return await deps.runtime.idempotency.run(
        key,
        scope=f"amendments:{user.user_id}:{company_of(user)}",
        request_fingerprint=fingerprint("POST", request.url.path, body.wire()),
        action=action,
    )


@public.get("/{contract_id}/amendments")
async def list_amendments(
    contract_id: Id, user: Reading, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[AmendmentOut]:
    """The contract's amendments, oldest first: each one's terms and the terms
    it replaced, so every version of the contract is here."""
    items, next_cursor = await deps.amendments.page(reader_of(user), contract_id, limit, cursor)
    return Page[AmendmentOut](items=[AmendmentOut.of(a) for a in items], next_cursor=next_cursor)


@public.get("/{contract_id}/amendments/{number}")
async def get_amendment(
    contract_id: Id, number: AmendmentNumber, user: Reading, deps: Deps
) -> AmendmentOut:
    """One amendment: its status and history, the terms it replaces and its own."""
    return AmendmentOut.of(await deps.amendments.visible(reader_of(user), contract_id, number))


@public.get("/{contract_id}/amendments/{number}/pdf")
async def get_amendment_pdf(
    contract_id: Id,
    number: AmendmentNumber,
    user: Reading,
    deps: Deps,
    kind: Annotated[PdfKind, Query()] = "original",
) -> DocumentLink:
    """A presigned download link (valid 5 minutes) and the SHA-256 of the
    amendment's PDF; ``kind=final``: signed and sealed, once in force."""
    url, expires_at, sha256 = await deps.amendments.link(reader_of(user), contract_id, number, kind)
    return DocumentLink(url=url, expires_at=expires_at, sha256=sha256, kind=kind)


@public.post("/{contract_id}/amendments/{number}/withdraw")
async def withdraw_amendment(
    contract_id: Id, number: AmendmentNumber, body: WithdrawIn, user: Drafter, deps: Deps
) -> AmendmentOut:
    """Withdraw an amendment not yet in force (409 ``amendment-not-signable``
    otherwise); the contractor is told, the terms in force stay."""

    async def stage(uow: UnitOfWork) -> Any:
        return await deps.amendments.withdraw(
            company_of(user), user.user_id, contract_id, number, body.reason, uow
        )

    return AmendmentOut.of(await deps.runtime.commit_retrying(stage))


@serve(internal, contract.AMENDMENT)
async def internal_amendment(
    contract_id: Id, number: AmendmentNumber, deps: Deps
) -> AmendmentForSigning:
    found, amendment = await deps.amendments.for_signing(contract_id, number)
    return for_signing(found, amendment)


@serve(
    internal,
    contract.AMENDMENT_DOCUMENT,
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def internal_amendment_document(
    contract_id: Id,
    number: AmendmentNumber,
    deps: Deps,
    kind: Annotated[PdfKind, Query()] = "original",
) -> Response:
    data = await deps.amendments.document(contract_id, number, kind)
    return Response(content=data, media_type="application/pdf")


@serve(
    internal,
    contract.AMENDMENT_FINAL_DOCUMENT,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def internal_store_amendment_final(
    contract_id: Id, number: AmendmentNumber, request: Request, caller: Internal, deps: Deps
) -> FinalDocumentOut:
    """The signed amendment (raw PDF body); only the signature service."""
    data = await read_limited(request, deps.settings.max_document_bytes, DocumentTooLarge)
    uow = deps.runtime.uow()
    amendment = await deps.amendments.store_final(caller.service, contract_id, number, data, uow)
    await uow.commit()
    return FinalDocumentOut(sha256=amendment.final_pdf_sha256 or "", version=amendment.version)


@serve(internal, contract.AMENDMENT_TRANSITION)
async def internal_amendment_transition(
    contract_id: Id,
    number: AmendmentNumber,
    body: AmendmentTransitionIn,
    caller: Internal,
    deps: Deps,
) -> AmendmentForSigning:
    """Move an amendment on a signature or a decline; only the signature service."""
    uow = deps.runtime.uow()
    amendment = await deps.amendments.transition(
        caller.service,
        contract_id,
        number,
        to=body.to,
        expected_version=body.expected_version,
        actor_user_id=body.actor_user_id,
        actor_company_id=body.actor_company_id,
        reason=body.reason,
        signature_ids=body.signature_ids,
        ledger_entry_ids=body.ledger_entry_ids,
        uow=uow,
    )
    await uow.commit()
    return for_signing(*amendment)
