"""The escrow steps' routes: thin — parse, authorize, call the service, respond.

Who may act: the contract's contractor submits (and asks for upload URLs);
client members whose role moves money (``payments.move``) approve or ask for
changes; both open disputes and settle by agreement; parties and admins read.
Unknown items and other people's answer 404 alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from mindlinks_fleet.internal import payment
from mindlinks_fleet.internal.payment import EscrowOut, OperatorEscrowDetail, ResolutionRequest
from mindlinks_fleet.teams import PERMISSIONS
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import Principal, roles
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import NotFound
from mindlinks_kit.idempotency import REQUIRED_KEY, RequiredIdempotencyKey, fingerprint
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Id
from mindlinks_kit.tenancy import Acting, acting, acting_or
from mindlinks_payment.deps import Deps, PaymentDeps
from mindlinks_payment.domain import Caller, Escrow
from mindlinks_payment.escrow_schemas import (
    EscrowDetailOut,
    ReasonRequest,
    RefundAmount,
    SubmitRequest,
    UploadOut,
    UploadRequest,
    operator_detail,
)
from mindlinks_payment.providers.local import WebhookDeliveryFailed
from mindlinks_payment.schemas import LocalSettlement, escrow_out

public = APIRouter(prefix="/v1/payments/escrow", tags=["escrow"])
dev = APIRouter(prefix="/v1/payments/dev", tags=["local only"])
internal = APIRouter()

Party = Annotated[Acting, Depends(acting_or("payments.read", "contractor", "admin"))]
Payer = Annotated[Acting, Depends(acting("payments.move"))]
ContractorUser = Annotated[Principal, Depends(roles("contractor"))]
MOVES_MONEY = frozenset(PERMISSIONS["payments.move"])
MovesMoney = Callable[[UnitOfWork, str], Awaitable[Escrow]]


def member(user: Acting) -> Caller:
    return Caller(
        user.user_id,
        user.principal.role,
        company_id=user.tenant_id,
        moves_money=user.role in MOVES_MONEY,
    )


def contractor(user: Principal) -> Caller:
    return Caller(user.user_id, user.role)


def _out(escrow: Escrow) -> EscrowOut:
    return escrow_out(escrow)


async def moving_money(
    deps: PaymentDeps,
    user: Acting,
    path: str,
    body: Any,
    key: str | None,
    action: MovesMoney,
) -> JSONResponse:
    """A step that moves money, once per ``Idempotency-Key``: its claim is
    named after the key, so a retry of a claimed step completes it."""
    scope = f"escrow:{user.user_id}:{user.tenant_id}"

    async def run(uow: UnitOfWork) -> tuple[int, Any]:
        escrow = await action(uow, f"{scope}:{key}")
        return 200, _out(escrow).model_dump(mode="json", by_alias=True)

    return await deps.runtime.idempotency.run(
        key,
        scope=scope,
        request_fingerprint=fingerprint("POST", path, body),
        action=run,
        required=True,
    )


@public.get("/{escrow_id}")
async def escrow_detail(escrow_id: Id, user: Party, deps: Deps) -> EscrowDetailOut:
    """One item for its parties and admins: state, submissions (with
    short-lived download links), dispute, proposal, settlement and history."""
    return EscrowDetailOut.of(await deps.escrow.view(member(user), escrow_id))


@public.post("/{escrow_id}/uploads", status_code=201)
async def request_upload(
    escrow_id: Id, body: UploadRequest, user: ContractorUser, deps: Deps
) -> UploadOut:
    """A presigned S3 POST admitting exactly this file (type and size) for
    the item's next submission, valid 10 minutes."""
    upload = await deps.escrow.upload(contractor(user), escrow_id, body.content_type, body.size)
    return UploadOut.of(upload)


@public.post("/{escrow_id}/submissions", status_code=201)
async def submit_work(
    escrow_id: Id, body: SubmitRequest, user: ContractorUser, deps: Deps, uow: Transaction
) -> EscrowOut:
    """Submit work on a funded item (or again, after changes were asked):
    a note and the uploaded files. The review period starts."""
    files = [(f.file_id, f.name) for f in body.files]
    return _out(await deps.escrow.submit(contractor(user), escrow_id, body.note, files, uow))


@public.post("/{escrow_id}/changes-requests")
async def request_changes(
    escrow_id: Id, body: ReasonRequest, user: Payer, deps: Deps, uow: Transaction
) -> EscrowOut:
    """Ask for changes to the submitted work, with a reason; the review stops."""
    return _out(await deps.escrow.request_changes(member(user), escrow_id, body.reason, uow))


@public.post(
    "/{escrow_id}/approve",
    response_model=EscrowOut,
    responses={200: {"description": "Approved and released to the contractor"}},
    openapi_extra=REQUIRED_KEY,
)
async def approve(
    escrow_id: Id, user: Payer, deps: Deps, idempotency_key: RequiredIdempotencyKey = None
) -> JSONResponse:
    """Approve the work: the item is released to the contractor (the same as
    ``POST /v1/payments/escrow/{id}/release``)."""
    path = f"/v1/payments/escrow/{escrow_id}/approve"

    async def action(uow: UnitOfWork, claim: str) -> Escrow:
        return await deps.escrow.approve(member(user), escrow_id, claim, uow)

    return await moving_money(deps, user, path, None, idempotency_key, action)


@public.post("/{escrow_id}/disputes")
async def open_dispute(
    escrow_id: Id, body: ReasonRequest, user: Party, deps: Deps, uow: Transaction
) -> EscrowOut:
    """Either party disputes a funded or submitted item: it is frozen until
    an admin resolves it."""
    return _out(await deps.escrow.dispute(member(user), escrow_id, body.reason, uow))


@public.post("/{escrow_id}/agreement")
async def propose_agreement(
    escrow_id: Id, body: RefundAmount, user: Party, deps: Deps, uow: Transaction
) -> EscrowOut:
    """Propose to settle by agreement: ``refundMinor`` back to the client, the
    rest to the contractor; the other party accepts it."""
    return _out(await deps.escrow.propose(member(user), escrow_id, body.refund_minor, uow))


@public.post(
    "/{escrow_id}/agreement/accept",
    response_model=EscrowOut,
    responses={200: {"description": "Settled as agreed: refunded and released"}},
    openapi_extra=REQUIRED_KEY,
)
async def accept_agreement(
    escrow_id: Id,
    body: RefundAmount,
    user: Party,
    deps: Deps,
    idempotency_key: RequiredIdempotencyKey = None,
) -> JSONResponse:
    """Accept the other party's proposal, naming its amount: the item is
    settled as agreed (a partial refund and a release)."""
    path = f"/v1/payments/escrow/{escrow_id}/agreement/accept"

    async def action(uow: UnitOfWork, claim: str) -> Escrow:
        return await deps.escrow.accept(member(user), escrow_id, body.refund_minor, claim, uow)

    document = body.model_dump(mode="json", by_alias=True)
    return await moving_money(deps, user, path, document, idempotency_key, action)


# internal: the admin service ---------------------------------------------------


@serve(internal, payment.ESCROW_DETAIL)
async def operator_escrow_detail(escrow_id: Id, deps: Deps) -> OperatorEscrowDetail:
    """One item across tenants with its whole history; unknown: 404."""
    escrow, history = await deps.effects.operator_view(escrow_id)
    return operator_detail(escrow, history)


@serve(internal, payment.RESOLVE)
async def resolve_dispute(
    escrow_id: Id, body: ResolutionRequest, deps: Deps
) -> OperatorEscrowDetail:
    """Resolve a disputed item: release, refund, or split in minor units. The
    same resolution again answers the item as it settled; any other step on
    a settled or undisputed item is a 409."""
    uow = deps.runtime.uow()
    await deps.effects.resolve(
        escrow_id, body.outcome, body.released_minor, body.note, body.resolved_by, uow
    )
    await uow.commit()
    escrow, history = await deps.effects.operator_view(escrow_id)
    return operator_detail(escrow, history)


# local only: the bank settles a refund -------------------------------------------


async def _settle_refund(
    deps: PaymentDeps, refund_id: str, succeeded: bool
) -> list[LocalSettlement]:
    if deps.local_stripe is None:
        raise NotFound("The local Stripe is off: this service talks to Stripe")
    delivered = await deps.local_stripe.settle_refund(
        refund_id, "succeeded" if succeeded else "failed"
    )
    names = ("refund.updated", "charge.refunded") if succeeded else ("refund.failed",)
    out = []
    for (event_id, redelivered, status), name in zip(delivered, names, strict=False):
        if not 200 <= status < 300:
            raise WebhookDeliveryFailed(webhookStatus=status, eventId=event_id)
        out.append(
            LocalSettlement(
                event_id=event_id, type=name, redelivered=redelivered, webhook_status=status
            )
        )
    return out


@dev.post("/refunds/{refund_id}/succeed", status_code=202)
async def succeed_refund(refund_id: Id, deps: Deps) -> list[LocalSettlement]:
    """The money is back with the card holder: signed ``refund.updated`` and
    ``charge.refunded`` reach the webhook (again: the same events, redelivered)."""
    return await _settle_refund(deps, refund_id, succeeded=True)


@dev.post("/refunds/{refund_id}/fail", status_code=202)
async def fail_refund(refund_id: Id, deps: Deps) -> list[LocalSettlement]:
    """The refund cannot reach the card: a signed ``refund.failed``."""
    return await _settle_refund(deps, refund_id, succeeded=False)
