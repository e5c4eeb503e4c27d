"""Signature routes: thin — parse, authorize, call the service object, respond."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from mindlinks_fleet.internal import signature
from mindlinks_fleet.internal.signature import SignatureOut, SignatureRecord
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import ClientIp
from mindlinks_kit.bodies import read_limited
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import Problem
from mindlinks_kit.idempotency import IdempotencyKey, fingerprint
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting_or
from mindlinks_signature.deps import Deps, SignatureDeps
from mindlinks_signature.domain import Caller
from mindlinks_signature.local_tsa import MAX_QUERY_BYTES
from mindlinks_signature.schemas import (
    DeclineIn,
    DeclineOut,
    SignedOut,
    SignIn,
    VerifyOut,
    signature_out,
    signature_record,
)
from mindlinks_signature.seal import TIMESTAMP_QUERY, TIMESTAMP_REPLY

public = APIRouter(prefix="/v1/signatures", tags=["signatures"])
internal = APIRouter()
dev = APIRouter(prefix="/v1/signatures/dev", tags=["local only"])
"""Mounted only in local mode: the local time-stamp authority."""
Signer = Annotated[Acting, Depends(acting_or("contracts.sign", "contractor"))]
"""The contractor, or a member whose company role signs for the company
(and so may decline for it)."""
Reader = Annotated[Acting, Depends(acting_or("contracts.read", "contractor", "admin"))]


def _caller(user: Acting, request: Request, ip: str) -> Caller:
    agent = request.headers.get("user-agent")
    return Caller(
        user_id=user.user_id,
        role=user.principal.role,
        ip_address=ip,
        user_agent=agent[:512] if agent else None,
        company_id=user.tenant_id,
        company_role=user.role,
    )


@public.post("/contracts/{contract_id}/sign", status_code=201, response_model=SignedOut)
async def sign(
    contract_id: Id,
    body: SignIn,
    request: Request,
    user: Signer,
    ip: ClientIp,
    deps: Deps,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Sign the contract's document as it is now: the client first (an owner
    or admin of the client company signs for it), then the contractor. Needs
    a ``stepUpToken`` (``POST /v1/auth/step-up`` for
    ``contract-sign:<contractId>``), else ``403 step-up-required``.
    Records a ledger entry; the contractor's signature completes the contract
    with a certificate of completion. Repeat safely with an
    ``Idempotency-Key`` (or simply again: an interrupted signing is finished)."""
    return await _sign(contract_id, None, body, request, user, ip, deps, key)


async def _sign(
    contract_id: str,
    amendment: int | None,
    body: SignIn,
    request: Request,
    user: Acting,
    ip: str,
    deps: SignatureDeps,
    key: str | None,
) -> JSONResponse:
    """Sign the contract, or its ``amendment``, once per ``Idempotency-Key``."""
    caller = _caller(user, request, ip)
    # Before anything else, a retry too: whoever sends this request now must
    # have just confirmed a code (an idempotent replay is still a signing act).
    step_up = await deps.signatures.step_up(body.step_up_token, caller, contract_id, amendment)

    async def action(uow: UnitOfWork) -> tuple[int, Any]:
        signed = await deps.signatures.sign(
            contract_id, caller, body.signature_name, step_up, uow, amendment=amendment
        )
        out = SignedOut(
            **signature_out(signed.signature).model_dump(), contract_status=signed.contract_status
        )
        return 201, out.model_dump(mode="json", by_alias=True)

    return await deps.runtime.idempotency.run(
        key,
        scope=f"{user.user_id}:{user.tenant_id or '-'}",
        request_fingerprint=fingerprint("POST", request.url.path, body.wire()),
        action=action,
    )


@public.post("/contracts/{contract_id}/decline")
async def decline(
    contract_id: Id,
    body: DeclineIn,
    request: Request,
    user: Signer,
    ip: ClientIp,
    deps: Deps,
    uow: Transaction,
) -> DeclineOut:
    """Either party declines a contract awaiting signatures; it becomes ``declined``."""
    declined = await deps.signatures.decline(
        contract_id, _caller(user, request, ip), body.reason, uow
    )
    return DeclineOut.of(declined)


AmendmentNumber = Annotated[int, Path(ge=1, le=10_000)]


@public.post(
    "/contracts/{contract_id}/amendments/{number}/sign",
    status_code=201,
    response_model=SignedOut,
)
async def sign_amendment(
    contract_id: Id,
    number: AmendmentNumber,
    body: SignIn,
    request: Request,
    user: Signer,
    ip: ClientIp,
    deps: Deps,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Sign amendment ``number`` of an active contract, as the contract is
    signed: the client first, then the contractor, each with a ``stepUpToken``
    for ``amendment-sign:<contractId>-a<number>``. The contractor's signature
    seals the amendment with its certificate of completion and puts it in
    force (409 ``amendment-changes-funded-item`` if a payment it removes was
    funded meanwhile: the client withdraws it and proposes another)."""
    return await _sign(contract_id, number, body, request, user, ip, deps, key)


@public.post("/contracts/{contract_id}/amendments/{number}/decline")
async def decline_amendment(
    contract_id: Id,
    number: AmendmentNumber,
    body: DeclineIn,
    request: Request,
    user: Signer,
    ip: ClientIp,
    deps: Deps,
    uow: Transaction,
) -> DeclineOut:
    """Either party declines an amendment awaiting signatures; the terms in force stay."""
    declined = await deps.signatures.decline(
        contract_id, _caller(user, request, ip), body.reason, uow, amendment=number
    )
    return DeclineOut.of(declined)


class DocumentTooLarge(Problem):
    status = 413
    code = "document-too-large"
    title = "The document is too large"


class NotAPdf(Problem):
    status = 415
    code = "pdf-required"
    title = "Send the PDF itself as the body, with Content-Type application/pdf"


@public.post(
    "/verify",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def verify(request: Request, ip: ClientIp, deps: Deps) -> VerifyOut:
    """Anyone, without an account: is this PDF a final document we sealed,
    byte for byte? If so: the seal's and its time-stamp's validity (pyhanko),
    the signatures as its certificate page prints them, and each one's ledger
    inclusion proof. Anything else answers ``ours: false`` and nothing more.
    The body is the PDF (``application/pdf``, at most
    ``MINDLINKS_VERIFY_MAX_PDF_BYTES``); limited per address (429)."""
    await deps.throttle.take(ip)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/pdf":
        raise NotAPdf()
    pdf = await read_limited(request, deps.settings.verify_max_pdf_bytes, DocumentTooLarge)
    return VerifyOut.of(await deps.verifications.verify(pdf))


@dev.post(
    "/timestamps",
    response_class=Response,
    responses={200: {"content": {TIMESTAMP_REPLY: {}}}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {TIMESTAMP_QUERY: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def local_timestamp(request: Request, deps: Deps) -> Response:
    """The local time-stamp authority (RFC 3161 over HTTP: a DER
    ``TimeStampReq`` in, a DER ``TimeStampResp`` out)."""
    assert deps.local_tsa is not None  # mounted in local mode only
    query = await read_limited(request, MAX_QUERY_BYTES, DocumentTooLarge)
    reply = await asyncio.to_thread(deps.local_tsa.reply, query)
    return Response(reply, media_type=TIMESTAMP_REPLY)


@public.get("/contracts/{contract_id}")
async def signatures(
    contract_id: Id, request: Request, user: Reader, ip: ClientIp, deps: Deps
) -> Page[SignatureOut]:
    """The contract's signatures with their ledger receipts (parties and admins)."""
    found = await deps.signatures.listed(contract_id, _caller(user, request, ip))
    return Page[SignatureOut](items=[signature_out(s) for s in found])


@serve(internal, signature.SIGNATURES)
async def contract_signatures(
    contract_id: Annotated[Id, Query(alias="contractId")],
    deps: Deps,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[SignatureRecord]:
    """A contract's signatures in signing order, with their state (the admin
    service). An unknown contract has none."""
    scope = f"signatures:{contract_id}"
    start = deps.runtime.cursors.decode(cursor, scope)
    found, last = await deps.signatures.page(contract_id, limit, start)
    return Page[SignatureRecord](
        items=[signature_record(s) for s in found],
        next_cursor=deps.runtime.cursors.encode(last, scope),
    )
