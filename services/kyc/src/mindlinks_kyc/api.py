"""KYC routes: thin — parse, authorize, call the domain, commit, respond."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from mindlinks_fleet.internal import kyc
from mindlinks_fleet.internal.kyc import (
    AdminDecision,
    DecisionResult,
    Outcome,
    SessionOut,
    SessionSummary,
)
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import Principal, roles
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork
from mindlinks_kit.errors import Conflict, NotFound, Problem
from mindlinks_kit.idempotency import IdempotencyKey, fingerprint
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kyc.deps import Deps, KycDeps
from mindlinks_kyc.domain import Session
from mindlinks_kyc.schemas import (
    DevDecision,
    DevDelivery,
    DevSessionPage,
    DocumentRequest,
    DocumentUpload,
    MyKyc,
    SessionCreated,
    WebhookResult,
    session_out,
    session_summary,
)


class ProviderNotConfigured(NotFound):
    code = "provider-not-configured"
    title = "This identity provider is not configured"


class WebhookTooLarge(Problem):
    status = 413
    code = "payload-too-large"
    title = "The webhook body is too large"


class NotALocalSession(Conflict):
    code = "not-a-local-session"
    title = "Only sessions of the local provider can be decided here"


class WebhookRefused(Problem):
    status = 502
    code = "webhook-refused"
    title = "The service's own webhook route refused the local decision"


public = APIRouter(prefix="/v1/kyc", tags=["kyc"])
webhooks = APIRouter(prefix="/v1/kyc/webhooks", tags=["webhooks"])
"""Public and token-less: the provider authenticates by signature."""
internal = APIRouter()
dev = APIRouter(prefix="/v1/kyc/dev", tags=["local only"])
"""Mounted only in local mode (``create_app(dev_routers=...)``)."""

Contractor = Annotated[Principal, Depends(roles("contractor"))]
Reader = Annotated[Principal, Depends(roles("contractor", "admin"))]
ContractorId = Annotated[Id, Query(alias="contractorId")]
MAX_WEBHOOK_BYTES = 1024 * 1024
Decide = Callable[[UnitOfWork], Awaitable[tuple[Session, Outcome]]]


@public.post(
    "/sessions",
    status_code=201,
    response_model=SessionCreated,
    responses={200: {"model": SessionCreated, "description": "The open session, returned again"}},
)
async def start_session(
    request: Request, user: Contractor, deps: Deps, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Open a verification session, or return the open one (200) unless it expired."""

    async def action(uow: UnitOfWork) -> tuple[int, Any]:
        contractor = await deps.contractors.by_user(user.user_id)
        session, created = await deps.kyc.start(
            user.user_id, contractor, deps.providers.opening, uow
        )
        body = SessionCreated.of(session, deps.kyc.status_of(session))
        return (201 if created else 200), body.model_dump(mode="json")

    async def run() -> JSONResponse:
        return await deps.runtime.idempotency.run(
            idempotency_key,
            scope=f"kyc-sessions:{user.user_id}",
            request_fingerprint=fingerprint("POST", request.url.path, None),
            action=action,
        )

    try:
        return await run()
    except StaleVersion:
        # A concurrent request opened a session first; without a key, answer
        # with that one. (With a key the kit keeps the key claimed until its
        # lease ends, so the 409 stands and the client retries.)
        if idempotency_key is not None:
            raise
        return await run()


@public.get("/sessions/{session_id}")
async def get_session(session_id: Id, user: Reader, deps: Deps) -> SessionOut:
    """The caller's own session, or any for an admin; otherwise 404."""
    session = await deps.kyc.visible(user.user_id, user.role, session_id)
    documents = await deps.kyc.documents(session)
    return session_out(session, deps.kyc.status_of(session), documents)


@public.get("/me")
async def my_kyc(user: Contractor, deps: Deps) -> MyKyc:
    """The caller's overall KYC status and latest session."""
    session, overall = await deps.kyc.mine(user.user_id)
    if session is None:
        return MyKyc(status=overall, session=None)
    return MyKyc(status=overall, session=session_out(session, deps.kyc.status_of(session)))


@public.post("/sessions/{session_id}/documents", status_code=201)
async def request_upload(
    session_id: Id, body: DocumentRequest, user: Contractor, deps: Deps, uow: Transaction
) -> DocumentUpload:
    """A presigned S3 POST admitting exactly this document (type and size), 10 minutes."""
    document, upload = await deps.kyc.request_upload(
        user.user_id, session_id, body.kind, body.content_type, body.size, uow
    )
    return DocumentUpload.of(document, upload)


async def _apply(deps: KycDeps, decide: Decide) -> tuple[Session, Outcome]:
    """Commit a decision with the session's optimistic version; a concurrent
    writer (the same webhook delivered twice at once) makes us re-read, and the
    re-read finds the decision applied."""
    session, outcome = await deps.runtime.commit_retrying(decide)
    deps.runtime.metrics.count("KycDecisions", outcome=outcome, status=session.status)
    return session, outcome


async def _webhook(name: str, request: Request, deps: KycDeps) -> WebhookResult:
    provider = deps.providers.webhooks.get(name)
    if provider is None:
        raise ProviderNotConfigured()
    if int(request.headers.get("content-length") or 0) > MAX_WEBHOOK_BYTES:
        raise WebhookTooLarge()
    raw = await request.body()
    if len(raw) > MAX_WEBHOOK_BYTES:
        raise WebhookTooLarge()
    decision = provider.verify_webhook(raw, request.headers)
    if decision is None:
        return WebhookResult(outcome="ignored")
    session, outcome = await _apply(
        deps, lambda uow: deps.kyc.on_provider_decision(provider.name, decision, uow)
    )
    return WebhookResult(outcome=outcome, session_id=session.id, status=session.status)


@webhooks.post("/veriff")
async def veriff_webhook(request: Request, deps: Deps) -> WebhookResult:
    """Veriff's decision webhook (``X-AUTH-CLIENT``, ``X-HMAC-SIGNATURE``)."""
    return await _webhook("veriff", request, deps)


@webhooks.post("/onfido")
async def onfido_webhook(request: Request, deps: Deps) -> WebhookResult:
    """Onfido's webhook (``X-SHA2-Signature``); ``workflow_run.completed`` decides."""
    return await _webhook("onfido", request, deps)


@serve(internal, kyc.REVIEW_QUEUE)
async def review_queue(
    deps: Deps, limit: Limit = 50, cursor: Cursor = None
) -> Page[SessionSummary]:
    """Sessions waiting for a human (``in_review``), oldest first."""
    scope = "review-queue"
    sessions, last = await deps.kyc.review_queue(limit, deps.runtime.cursors.decode(cursor, scope))
    return Page[SessionSummary](
        items=[session_summary(s, deps.kyc.status_of(s)) for s in sessions],
        next_cursor=deps.runtime.cursors.encode(last, scope),
    )


@serve(internal, kyc.SESSIONS)
async def contractor_sessions(
    contractor_id: ContractorId,
    deps: Deps,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SessionSummary]:
    """A contractor's sessions, newest first."""
    scope = f"sessions:{contractor_id}"
    start = deps.runtime.cursors.decode(cursor, scope)
    sessions, last = await deps.kyc.sessions_of(contractor_id, limit, start)
    return Page[SessionSummary](
        items=[session_summary(s, deps.kyc.status_of(s)) for s in sessions],
        next_cursor=deps.runtime.cursors.encode(last, scope),
    )


@serve(internal, kyc.SESSION)
async def operator_session(session_id: Id, deps: Deps) -> SessionSummary:
    """One session as the lists show it (the admin's state before a decision); 404 unknown."""
    session = await deps.kyc.session(session_id)
    return session_summary(session, deps.kyc.status_of(session))


@serve(internal, kyc.DECISION)
async def admin_decision(session_id: Id, body: AdminDecision, deps: Deps) -> DecisionResult:
    """A human decision (the admin service), applied like a provider's."""
    session, outcome = await _apply(
        deps,
        lambda uow: deps.kyc.on_admin_decision(
            session_id, body.decision, body.reason, body.decided_by, uow
        ),
    )
    return DecisionResult(outcome=outcome, session=session_out(session, session.status))


@dev.get("/sessions/{session_id}")
async def dev_session(session_id: Id, deps: Deps) -> DevSessionPage:
    """What the local provider's verification URL shows."""
    session = await deps.kyc.session(session_id)
    origin = deps.settings.public_base_url.rstrip("/")
    return DevSessionPage(
        session_id=session.id,
        provider_session_id=session.provider_session_id,
        status=deps.kyc.status_of(session),
        decide=f"{origin}/v1/kyc/dev/sessions/{session.id}/decide",
    )


@dev.post("/sessions/{session_id}/decide", status_code=202)
async def dev_decide(session_id: Id, body: DevDecision, deps: Deps) -> DevDelivery:
    """The local provider decides: it signs a Veriff-format decision and POSTs
    it to this service's own webhook, as Veriff would."""
    local = deps.providers.local
    if local is None:
        raise ProviderNotConfigured("The local provider is not in use")
    session = await deps.kyc.session(session_id)
    if session.provider != local.name:
        raise NotALocalSession()
    raw, headers = local.signed_decision(
        provider_session_id=session.provider_session_id,
        status=body.decision,
        reason=body.reason,
        vendor_data=session.contractor_id,
        accepted_at=session.created_at,
        person_name=body.document_name or session.applicant_name,
    )
    try:
        response = await local.deliver(raw, headers)
    except httpx.HTTPError as exc:
        raise WebhookRefused(f"The webhook could not be reached ({type(exc).__name__})") from None
    if response.status_code >= 300:
        raise WebhookRefused(
            webhookStatus=response.status_code, webhookCode=_problem_code(response)
        )
    return DevDelivery(
        session_id=session.id, decision=body.decision, webhook_status=response.status_code
    )


def _problem_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return str(code) if code else None
