"""Payment routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

from mindlinks_fleet.internal import payment
from mindlinks_fleet.internal.payment import (
    ContractItemsOut,
    EscrowOut,
    FlagRequest,
    ItemStateOut,
    OperatorEscrowOut,
    OperatorTransactionOut,
    TransactionOut,
)
from mindlinks_fleet.teams import PERMISSIONS
from mindlinks_kit.auth import Principal, roles
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import NotFound
from mindlinks_kit.idempotency import REQUIRED_KEY, RequiredIdempotencyKey, fingerprint
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting, acting_or
from mindlinks_payment.deps import Deps, PaymentDeps
from mindlinks_payment.domain import Caller, ChargeStatus, EscrowState
from mindlinks_payment.providers.local import LocalStripe, WebhookDeliveryFailed
from mindlinks_payment.schemas import (
    LocalAccount,
    LocalSettlement,
    PayoutAccountOut,
    ScheduleOut,
    WebhookAck,
    escrow_out,
    operator_escrow_out,
    operator_transaction_out,
    transaction_out,
)
from mindlinks_payment.service.oversight import TransactionQuery
from mindlinks_payment.service.webhooks import verify
from mindlinks_payment.store import EventAlreadyProcessed

public = APIRouter(prefix="/v1/payments", tags=["payments"])
dev = APIRouter(prefix="/v1/payments/dev", tags=["local only"])
"""Mounted only in local mode (``create_app(dev_routers=...)``): the card holder
and Stripe's hosted onboarding, played by the local provider."""
internal = APIRouter()

ContractFilter = Annotated[Id | None, Query(alias="contractId")]
Party = Annotated[Acting, Depends(acting_or("payments.read", "contractor", "admin"))]
"""A member of a client company, a contractor or an admin."""
Payer = Annotated[Acting, Depends(acting("payments.move"))]
"""A member whose company role moves the company's money."""
ContractorUser = Annotated[Principal, Depends(roles("contractor"))]
MOVES_MONEY = frozenset(PERMISSIONS["payments.move"])


def _caller(user: Acting) -> Caller:
    return Caller(
        user.user_id,
        user.principal.role,
        company_id=user.tenant_id,
        moves_money=user.role in MOVES_MONEY,
    )


@public.get("/contracts/{contract_id}/schedule")
async def schedule(contract_id: Id, user: Party, deps: Deps) -> ScheduleOut:
    """A contract's payment schedule, for its parties (the client company's
    members, the contractor) and admins. Members whose company role moves
    money (``payments.move``) also get each unpaid item's ``clientSecret``
    (to confirm the PaymentIntent with Stripe.js); nobody else ever does."""
    return ScheduleOut.of(await deps.payments.schedule(_caller(user), contract_id))


@public.get("/transactions")
async def transactions(
    user: Party,
    deps: Deps,
    contract_id: ContractFilter = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[TransactionOut]:
    """The caller's company's or own charges and transfers, newest first
    (admins: one contract's)."""
    found, next_cursor = await deps.payments.transactions(_caller(user), contract_id, limit, cursor)
    return Page[TransactionOut](items=[transaction_out(t) for t in found], next_cursor=next_cursor)


@public.post(
    "/escrow/{escrow_id}/release",
    response_model=EscrowOut,
    responses={200: {"description": "Released: the transfer to the contractor is made"}},
    openapi_extra=REQUIRED_KEY,
)
async def release(
    escrow_id: Id, user: Payer, deps: Deps, idempotency_key: RequiredIdempotencyKey = None
) -> JSONResponse:
    """Release a funded item to the contractor's payout account (a member of
    the client company whose role moves money; ``Idempotency-Key`` required:
    a repeat answers the first response). The same as approving the work
    (``POST .../approve``): allowed while funded, submitted or changes are asked."""

    scope = f"release:{user.user_id}:{user.tenant_id}"

    async def action(uow: UnitOfWork) -> tuple[int, Any]:
        # The claim is named after the key: its retry completes what it claimed.
        claim = f"{scope}:{idempotency_key}"
        released = await deps.escrow.approve(_caller(user), escrow_id, claim, uow)
        return 200, escrow_out(released).model_dump(mode="json", by_alias=True)

    request = fingerprint("POST", f"/v1/payments/escrow/{escrow_id}/release", None)
    # A lost race at commit frees the key's claim (the kit does), so the same
    # key may retry at once.
    return await deps.runtime.idempotency.run(
        idempotency_key, scope=scope, request_fingerprint=request, action=action, required=True
    )


@public.post(
    "/payout-account",
    response_model=PayoutAccountOut,
    responses={
        201: {"description": "Opened", "model": PayoutAccountOut},
        200: {"description": "Already open"},
    },
)
async def open_payout_account(user: ContractorUser, deps: Deps) -> JSONResponse:
    """Open the contractor's Stripe Express account (once) and return a fresh
    onboarding link (``201`` when opened now, ``200`` when it already was)."""
    account, link, created = await deps.payouts.open(user.user_id)
    body = PayoutAccountOut.of(account, link).model_dump(mode="json", by_alias=True)
    return JSONResponse(body, status_code=201 if created else 200)


@public.get("/payout-account")
async def payout_account(user: ContractorUser, deps: Deps) -> PayoutAccountOut:
    """The contractor's payout account as Stripe reports it now."""
    return PayoutAccountOut.of(await deps.payouts.status(user.user_id))


@public.post(
    "/webhooks/stripe",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A Stripe Event, exactly as Stripe sent it (verified byte for byte)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def stripe_webhook(
    request: Request,
    deps: Deps,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookAck:
    """Stripe's events, verified by signature (Stripe's SDK; signed within 5
    minutes either side of our clock) and applied once per event id; ``400``
    changes nothing."""
    settings = deps.settings
    event = verify(
        await request.body(),
        stripe_signature,
        settings.webhook_secret,
        settings.webhook_tolerance_seconds,
    )
    if await deps.store.event_processed(event.id):
        return WebhookAck(duplicate=True, outcome="duplicate")
    uow = deps.runtime.uow()
    outcome = await deps.webhooks.apply(event, uow)
    deps.store.record_event(
        uow, event.id, event.type, now_iso(), settings.webhook_event_retention_seconds
    )
    try:
        await uow.commit()
    except EventAlreadyProcessed:
        return WebhookAck(duplicate=True, outcome="duplicate")
    return WebhookAck(outcome=outcome)


def _local(deps: PaymentDeps) -> LocalStripe:
    if deps.local_stripe is None:
        raise NotFound("The local Stripe is off: this service talks to Stripe")
    return deps.local_stripe


async def _settle(deps: PaymentDeps, intent_id: str, succeeded: bool) -> LocalSettlement:
    event_id, redelivered, status = await _local(deps).settle(
        intent_id, "succeeded" if succeeded else "failed"
    )
    if not 200 <= status < 300:
        raise WebhookDeliveryFailed(webhookStatus=status, eventId=event_id)
    kind = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
    return LocalSettlement(
        event_id=event_id, type=kind, redelivered=redelivered, webhook_status=status
    )


@dev.post("/intents/{intent_id}/succeed", status_code=202)
async def succeed_intent(intent_id: Id, deps: Deps) -> LocalSettlement:
    """The card holder pays: the local Stripe delivers a signed
    ``payment_intent.succeeded`` to the webhook (again: the same event, redelivered)."""
    return await _settle(deps, intent_id, succeeded=True)


@dev.post("/intents/{intent_id}/fail", status_code=202)
async def fail_intent(intent_id: Id, deps: Deps) -> LocalSettlement:
    """The card is declined: a signed ``payment_intent.payment_failed``."""
    return await _settle(deps, intent_id, succeeded=False)


@dev.get("/accounts/{account_id}/onboard", response_model=LocalAccount)
async def onboard(
    account_id: Id,
    deps: Deps,
    return_url: Annotated[str | None, Query(max_length=2048)] = None,
) -> Any:
    """Stripe's hosted onboarding, completed at once; back to the dashboard's
    return page when it is on the public base URL."""
    account = await _local(deps).complete_onboarding(account_id)
    base = deps.settings.public_base_url.rstrip("/") + "/"
    if return_url and return_url.startswith(base):
        return RedirectResponse(return_url, status_code=303)
    return LocalAccount(
        account_id=account.id,
        transfers_active=account.transfers_active,
        payouts_enabled=account.payouts_enabled,
    )


# internal: the admin service ---------------------------------------------------


@serve(internal, payment.TRANSACTIONS)
async def operator_transactions(
    deps: Deps,
    status: ChargeStatus | None = None,
    contract_id: ContractFilter = None,
    stuck: bool = False,
    older_than_minutes: Annotated[int, Query(alias="olderThanMinutes", ge=1, le=10080)] = 60,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[OperatorTransactionOut]:
    """Transactions across tenants with their flags: by status and/or contract,
    newest first; ``stuck=true``: charges unsettled for ``olderThanMinutes``,
    oldest first."""
    query = TransactionQuery(status, contract_id, stuck, older_than_minutes)
    found, next_cursor = await deps.oversight.transactions(query, limit, cursor)
    return Page[OperatorTransactionOut](
        items=[operator_transaction_out(t) for t in found], next_cursor=next_cursor
    )


@serve(internal, payment.TRANSACTION)
async def operator_transaction(transaction_id: Id, deps: Deps) -> OperatorTransactionOut:
    """One transaction as the list shows it, with its flag (the admin's state
    before flagging); unknown: ``404 transaction-not-found``."""
    return operator_transaction_out(await deps.oversight.transaction(transaction_id))


@serve(internal, payment.ESCROW)
async def operator_escrow(
    deps: Deps,
    state: EscrowState | None = None,
    contract_id: ContractFilter = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[OperatorEscrowOut]:
    """Escrow items across tenants: a contract's in item order, else by state newest first."""
    found, next_cursor = await deps.oversight.escrows(state, contract_id, limit, cursor)
    return Page[OperatorEscrowOut](
        items=[operator_escrow_out(e) for e in found], next_cursor=next_cursor
    )


@serve(internal, payment.FLAG)
async def flag_transaction(
    transaction_id: Id, body: FlagRequest, deps: Deps
) -> OperatorTransactionOut:
    """Flag a transaction for follow-up (its status and money stay as they
    are); flagged already: ``200`` with the first flag."""
    flagged = await deps.oversight.flag(transaction_id, body.reason, body.flagged_by)
    return operator_transaction_out(flagged)


# internal: the contract service -------------------------------------------------


@serve(internal, payment.CONTRACT_ITEMS)
async def contract_items(contract_id: Id, deps: Deps) -> ContractItemsOut:
    """Where each escrowed item of a contract stands, in schedule order (an
    unknown or not yet activated contract has none: an empty list, never 404):
    the contract refuses an amendment that would change a funded item."""
    escrows = await deps.payments.contract_items(contract_id)
    return ContractItemsOut(
        contract_id=contract_id,
        items=[
            ItemStateOut(item_id=e.item_id, state=e.state, amount_minor=e.amount_minor)
            for e in escrows
        ],
    )
