"""A stand-in for payment's two escrow routes of issue 15 — ``ESCROW_DETAIL``
and ``RESOLVE`` — mounted from their declarations (same paths, answer models
and callers) in front of the real payment app, which serves everything else:
for the tests of the admin service and the operator CLI, until (and beside)
payment's own routes.

It holds items as payment answers them (``OperatorEscrowDetail``) and
resolves as the shared design says payment does: only a disputed item
(``409 escrow-state-conflict`` otherwise), a split strictly between 0 and the
amount (``422 invalid-split``), ``404 not-found`` for an unknown id; each
resolution adds its ``settling`` and final steps to the item's history."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
from fastapi import APIRouter, FastAPI, Header

from mindlinks_dev.harness import Running
from mindlinks_fleet.internal import payment
from mindlinks_fleet.internal.payment import (
    EscrowHistoryStep,
    OperatorEscrowDetail,
    PartiesOut,
    ResolutionRequest,
)
from mindlinks_kit.auth import ServiceCaller, service_caller
from mindlinks_kit.errors import Conflict, InvalidInput, NotFound, install_handlers
from mindlinks_kit.internal import serve

ROUTED = re.compile(
    "^(?:"
    + "|".join(
        re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(route.path))
        for route in (payment.ESCROW_DETAIL, payment.RESOLVE)
    )
    + ")$"
)
"""The two routes' paths, from their declarations."""
AT = "2030-02-20T10:00:00.000000Z"
FINAL = {"release": "released", "refund": "refunded", "split": "split"}


class EscrowStateConflict(Conflict):
    code = "escrow-state-conflict"
    title = "The escrowed item is not in a state that allows this"


class InvalidSplit(InvalidInput):
    code = "invalid-split"
    title = "A split must release more than 0 and less than the amount"


async def _unverified_caller(authorization: str = Header()) -> ServiceCaller:
    _, _, token = authorization.partition(" ")
    claims = jwt.decode(token, options={"verify_signature": False})
    return ServiceCaller(service=str(claims["sub"]), user=None)


class EscrowStandIn:
    def __init__(self) -> None:
        self.items: dict[str, OperatorEscrowDetail] = {}
        self.resolutions: list[tuple[str, dict[str, Any]]] = []
        """Every resolution asked for: (escrow id, the body as sent)."""

    def add(self, state: str = "disputed", amount_minor: int = 150000) -> OperatorEscrowDetail:
        escrow_id = f"esc-{uuid.uuid4().hex[:12]}"
        contract_id = f"c-{uuid.uuid4().hex[:12]}"
        history = [
            EscrowHistoryStep(at=AT, action="opened", to_state="pending_funding"),
            EscrowHistoryStep(
                at=AT,
                action="funded",
                from_state="pending_funding",
                to_state="funded",
                by_side="system",
            ),
        ]
        if state == "disputed":
            history.append(
                EscrowHistoryStep(
                    at=AT,
                    action="disputed",
                    from_state="funded",
                    to_state="disputed",
                    by_user_id="u-client",
                    by_side="client",
                    reason="Not what we agreed",
                )
            )
        item = OperatorEscrowDetail(
            id=escrow_id,
            contract_id=contract_id,
            item_id=f"{contract_id}-0",
            amount_minor=amount_minor,
            currency="EUR",
            state=state,
            transfer_id=None,
            funded_at=AT,
            released_at=None,
            position=0,
            title="Design",
            due_date="2030-03-01",
            transaction_id=f"tx-{escrow_id}",
            payment_intent_id=f"pi_{escrow_id}",
            charge_id=f"ch_{escrow_id}",
            parties=PartiesOut(
                client_company_id="co-1",
                client_user_id="u-client",
                contractor_id="k-1",
                contractor_user_id="u-contractor",
            ),
            created_at=AT,
            updated_at=AT,
            history=history,
        )
        self.items[escrow_id] = item
        return item

    def app(self) -> FastAPI:
        app = FastAPI()
        install_handlers(app)
        app.dependency_overrides[service_caller] = _unverified_caller
        router = APIRouter()

        @serve(router, payment.ESCROW_DETAIL)
        async def detail(escrow_id: str) -> OperatorEscrowDetail:
            if escrow_id not in self.items:
                raise NotFound()
            return self.items[escrow_id]

        @serve(router, payment.RESOLVE)
        async def resolve(escrow_id: str, body: ResolutionRequest) -> OperatorEscrowDetail:
            self.resolutions.append((escrow_id, body.model_dump(mode="json", by_alias=True)))
            item = self.items.get(escrow_id)
            if item is None:
                raise NotFound()
            if item.state != "disputed":
                raise EscrowStateConflict(f"the item is {item.state}")
            released = {"release": item.amount_minor, "refund": 0}.get(
                body.outcome, body.released_minor or 0
            )
            if body.outcome == "split" and not 0 < released < item.amount_minor:
                raise InvalidSplit()
            split = {"released_minor": released, "refunded_minor": item.amount_minor - released}
            final = FINAL[body.outcome]
            steps = [
                EscrowHistoryStep(
                    at=AT,
                    action="settling",
                    from_state="disputed",
                    to_state="settling",
                    by_user_id=body.resolved_by,
                    by_side="admin",
                    reason=body.note,
                    **split,
                ),
                EscrowHistoryStep(
                    at=AT, action=final, from_state="settling", to_state=final, **split
                ),
            ]
            resolved = item.model_copy(update={"state": final, "history": item.history + steps})
            self.items[escrow_id] = resolved
            return resolved

        app.include_router(router)
        return app


class PaymentWithEscrow(httpx.AsyncBaseTransport):
    """The stand-in's two routes; the real payment app for the rest."""

    def __init__(self, real: httpx.AsyncBaseTransport, stand_in: FastAPI) -> None:
        self.real = real
        self.stand_in = httpx.ASGITransport(app=stand_in)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if ROUTED.match(request.url.path):
            return await self.stand_in.handle_async_request(request)
        return await self.real.handle_async_request(request)


@contextlib.contextmanager
def in_front_of_payment(fleet: Running, stand_in: EscrowStandIn) -> Iterator[EscrowStandIn]:
    """The admin service reaches payment through the stand-in; afterwards the
    real app again."""
    peers = fleet.runtime("admin").peers
    real = httpx.ASGITransport(app=fleet.apps["payment"])
    peers.mount("payment", PaymentWithEscrow(real, stand_in.app()))
    try:
        yield stand_in
    finally:
        peers.mount("payment", real)
