"""The payment service's tests run the real apps in-process — auth (JWKS,
tokens) and payment — against the moto server and the real Redis.

The contract and contractor peers are stand-ins implementing exactly the
internal routes of docs/lifecycle.md (``StandIns``), so each test gives them
the data it needs; ``test_peers.py`` runs the same calls against the real
client, contractor and contract services when they are installed. Stripe is
the local provider (its signed webhooks reach the app through the app's own
ASGI transport), or the real adapter with Stripe faked at its HTTP boundary
(respx) in ``test_stripe_provider.py``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from fastapi import FastAPI, Header, HTTPException

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem
from mindlinks_dev.pytest_plugin import StartServices, http_boundary
from mindlinks_fleet.events import ContractActivated, ContractTerminated, ScheduleItem
from mindlinks_fleet.internal.contract import ContractOut
from mindlinks_kit.dynamo import from_wire
from mindlinks_kit.events.envelope import Detail
from mindlinks_payment.providers.local import local_id


class StandIns:
    """The contract, contractor and client services' internal routes that
    payment calls (``GET /internal/contracts/{id}``,
    ``GET /internal/contractors/by-user/{userId}``,
    ``GET /internal/clients/members/{userId}``,
    ``GET /internal/clients/companies/{id}``), answering from what a test
    gives them (a company unknown to it is a registered one named after its id)."""

    def __init__(self) -> None:
        self.contracts: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.contractors_by_user: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, str]] = {}
        """user id → {company id: role}."""
        self.callers: list[str] = []
        """The ``sub`` of every service token presented (who called)."""

    def _caller(self, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401)
        claims = jwt.decode(authorization[7:], options={"verify_signature": False})
        if claims.get("aud") != "internal":
            raise HTTPException(401)
        self.callers.append(str(claims["sub"]))

    def contract_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/contracts/{contract_id}")
        async def contract(
            contract_id: str, authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            self._caller(authorization)
            if contract_id not in self.contracts:
                raise HTTPException(404)
            return self.contracts[contract_id]

        return app

    def client_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/clients/members/{user_id}")
        async def members(
            user_id: str, authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            self._caller(authorization)
            found = self.members.get(user_id, {})
            return {"items": [{"companyId": c, "role": r} for c, r in found.items()]}

        @app.get("/internal/clients/companies/{company_id}")
        async def company(
            company_id: str, authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            self._caller(authorization)
            return self.companies.get(company_id) or {
                "id": company_id,
                "legalName": f"Company {company_id[:8]} Ltd",
                "tradingName": None,
                "status": "active",
                "ownerUserId": "owner",
                "jurisdictionCode": "gb",
                "companyNumber": "ML000042",
                "nameMismatch": False,
            }

        return app

    def contractor_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/contractors/by-user/{user_id}")
        async def by_user(
            user_id: str, authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            self._caller(authorization)
            if user_id not in self.contractors_by_user:
                raise HTTPException(404)
            return self.contractors_by_user[user_id]

        return app


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "payment") as running:
        wire(running, StandIns())
        yield running


def wire(running: Running, stand_ins: StandIns) -> None:
    """Peers → stand-ins; the local Stripe's webhooks → the app itself."""
    runtime = running.runtime("payment")
    runtime.peers.mount("client", httpx.ASGITransport(app=stand_ins.client_app()))
    runtime.peers.mount("contract", httpx.ASGITransport(app=stand_ins.contract_app()))
    runtime.peers.mount("contractor", httpx.ASGITransport(app=stand_ins.contractor_app()))
    running.apps["payment"].state.stand_ins = stand_ins
    local = running.deps("payment").local_stripe
    if local is not None:
        local.mount(httpx.ASGITransport(app=running.apps["payment"]))


@dataclass
class Contract:
    id: str
    client_user_id: str
    contractor_user_id: str
    contractor_id: str
    client_company_id: str
    currency: str
    schedule: list[ScheduleItem]
    event_id: str = ""
    review_days: int = 14
    client: dict[str, str] = field(default_factory=dict)
    contractor: dict[str, str] = field(default_factory=dict)

    def activated(self) -> ContractActivated:
        return ContractActivated(
            contract_id=self.id,
            title="Website redesign",
            client_company_id=self.client_company_id,
            client_user_id=self.client_user_id,
            contractor_id=self.contractor_id,
            contractor_user_id=self.contractor_user_id,
            currency=self.currency,
            schedule=self.schedule,
            ledger_entry_id=7,
            review_days=self.review_days,
        )

    def document(self) -> dict[str, Any]:
        """The contract as ``GET /internal/contracts/{id}`` answers it."""
        return ContractOut(
            id=self.id,
            title="Website redesign",
            status="active",
            version=5,
            description="",
            currency=self.currency,
            start_date="2030-01-01",
            terms={"kind": "fixed", "amountMinor": 1, "dueDate": "2030-01-01"},
            total_minor=1,
            template_id=None,
            client_company_id=self.client_company_id,
            client_user_id=self.client_user_id,
            client_name="Acme Ltd",
            contractor_id=self.contractor_id,
            contractor_user_id=self.contractor_user_id,
            contractor_name="Ada Lovelace",
            pdf_sha256="0" * 64,
            final_pdf_sha256=None,
            activated_at=None,
            ledger_entry_id=None,
            completed_at=None,
            history=[],
            created_at="2030-01-01T00:00:00Z",
            updated_at="2030-01-01T00:00:00Z",
        ).model_dump(mode="json", by_alias=True)


class Payments:
    """Drives the payment service the way production does: the ledger's event
    on the bus, the dashboards' routes, the local Stripe's webhooks."""

    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet
        self.client = fleet.client("payment")
        self.stand_ins: StandIns = fleet.apps["payment"].state.stand_ins

    def headers(self, user_id: str, role: str) -> dict[str, str]:
        return self.fleet.bearer(user_id, role)

    problem = staticmethod(problem)

    def adopt(self, contract: Contract) -> Contract:
        """A contract made elsewhere (the real contract service), with its parties' tokens."""
        contract.client = self.headers(contract.client_user_id, "client")
        contract.contractor = self.headers(contract.contractor_user_id, "contractor")
        return contract

    def contract(
        self, amounts: tuple[int, ...] = (150000, 50000), currency: str = "EUR"
    ) -> Contract:
        contract_id = uuid.uuid4().hex
        contract = Contract(
            id=contract_id,
            client_user_id=uuid.uuid4().hex,
            contractor_user_id=uuid.uuid4().hex,
            contractor_id=uuid.uuid4().hex,
            client_company_id=uuid.uuid4().hex,
            currency=currency,
            schedule=[
                ScheduleItem(
                    item_id=f"{contract_id}-{index}",
                    title=f"Milestone {index + 1}",
                    amount_minor=amount,
                    due_date=f"2030-0{index % 9 + 1}-15",
                )
                for index, amount in enumerate(amounts)
            ],
        )
        contract.client = self.headers(contract.client_user_id, "client")
        contract.contractor = self.headers(contract.contractor_user_id, "contractor")
        self.stand_ins.contracts[contract.id] = contract.document()
        self.stand_ins.members[contract.client_user_id] = {contract.client_company_id: "owner"}
        return contract

    def member(self, contract: Contract, role: str, user_id: str | None = None) -> dict[str, str]:
        """Headers of a ``client`` account with ``role`` in the contract's client
        company (a new account, or ``user_id``'s: then a member of several)."""
        user_id = user_id or uuid.uuid4().hex
        self.stand_ins.members.setdefault(user_id, {})[contract.client_company_id] = role
        members = self.fleet.runtime("payment").members
        if members is not None:
            members.forget(user_id)  # as the company.member-added revocation does
        return self.headers(user_id, "client")

    async def publish(self, contract: Contract, event_id: str | None = None) -> str:
        """``ledger.contract-activated`` on the bus, in the ledger's envelope."""
        detail = Detail(
            data=contract.activated().model_dump(mode="json", by_alias=True),
            correlation_id=uuid.uuid4().hex,
        )
        if event_id is not None:
            detail.id = event_id
        runtime = self.fleet.runtime("payment")
        response = await runtime.aws.events.put_events(
            Entries=[
                {
                    "EventBusName": runtime.settings.physical(runtime.fleet.bus),
                    "Source": "mindlinks.ledger",
                    "DetailType": "ledger.contract-activated",
                    "Detail": detail.model_dump_json(by_alias=True),
                }
            ]
        )
        assert response["FailedEntryCount"] == 0
        return detail.id

    async def activate(
        self, amounts: tuple[int, ...] = (150000, 50000), review_days: int = 14
    ) -> Contract:
        contract = self.contract(amounts)
        contract.review_days = review_days
        contract.event_id = await self.publish(contract)
        await self.fleet.deliver()
        return contract

    async def schedule(self, contract: Contract, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/payments/contracts/{contract.id}/schedule", headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def fund(self, contract: Contract, index: int = 0) -> dict[str, Any]:
        """The client pays item ``index``: the local Stripe's signed webhook."""
        items = (await self.schedule(contract, contract.client))["items"]
        response = await self.client.post(
            f"/v1/payments/dev/intents/{items[index]['paymentIntentId']}/succeed"
        )
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body

    def contractor_profile(self, contract: Contract) -> None:
        self.stand_ins.contractors_by_user[contract.contractor_user_id] = {
            "id": contract.contractor_id,
            "userId": contract.contractor_user_id,
            "name": "Grace Hopper",
            "email": f"{contract.contractor_user_id}@example.com",
            "kycStatus": "verified",
            "companyIds": [contract.client_company_id],
        }

    async def payout_ready(self, contract: Contract) -> str:
        """The contractor opens a payout account and finishes onboarding."""
        self.contractor_profile(contract)
        opened = await self.client.post("/v1/payments/payout-account", headers=contract.contractor)
        assert opened.status_code in (200, 201), opened.text
        url = httpx.URL(opened.json()["onboardingUrl"])
        done = await self.client.get(url.path)
        assert done.status_code == 200, done.text
        account_id: str = opened.json()["accountId"]
        return account_id

    async def published(self, name: str, contract_id: str) -> list[dict[str, Any]]:
        """The payloads of ``name`` events the payment service wrote for a contract."""
        runtime = self.fleet.runtime("payment")
        found: list[tuple[str, dict[str, Any]]] = []
        paginator = runtime.aws.dynamodb.get_paginator("scan")
        async for page in paginator.paginate(TableName=runtime.table("outbox").name):
            for raw in page.get("Items", []):
                item = from_wire(raw)
                data = json.loads(item["detail"])["data"]
                if item["detailType"] == name and data.get("contractId") == contract_id:
                    found.append((item["createdAt"], data))
        return [data for _, data in sorted(found, key=lambda pair: pair[0])]


@pytest.fixture
def payments(fleet: Running) -> Payments:
    return Payments(fleet)


@pytest.fixture(scope="session")
def connect() -> Callable[[Running], Payments]:
    """For modules that start their own fleet: wire its peers and Stripe, drive it."""

    def connect(running: Running) -> Payments:
        wire(running, StandIns())
        return Payments(running)

    return connect


@pytest.fixture(scope="session")
def new_contract() -> type[Contract]:
    return Contract


class StripeFake:
    """Stripe's side of its HTTP boundary, for respx."""

    @staticmethod
    def form(request: httpx.Request) -> dict[str, str]:
        """A form-encoded Stripe request body, flattened (``metadata[itemId]`` keys)."""
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        return {k: v[0] for k, v in parse_qs(request.content.decode(), strict_parsing=True).items()}

    @staticmethod
    def intent(request: httpx.Request) -> httpx.Response:
        """Stripe's PaymentIntent create: one object per idempotency key."""
        body = StripeFake.form(request)
        ref = hashlib.sha256(request.headers["idempotency-key"].encode()).hexdigest()[:14]
        return httpx.Response(
            200,
            json={
                "id": f"pi_3{ref}",
                "object": "payment_intent",
                "amount": int(body["amount"]),
                "currency": body["currency"],
                "client_secret": f"pi_3{ref}_secret_{ref[::-1]}",
                "status": "requires_payment_method",
                "metadata": {k[9:-1]: v for k, v in body.items() if k.startswith("metadata[")},
            },
        )

    @staticmethod
    def account(account_id: str = "acct_1Test", transfers: str = "active") -> dict[str, Any]:
        return {
            "id": account_id,
            "object": "account",
            "type": "express",
            "charges_enabled": transfers == "active",
            "payouts_enabled": transfers == "active",
            "details_submitted": transfers == "active",
            "capabilities": {"transfers": transfers},
        }

    @staticmethod
    def error(status: int, kind: str, message: str, **extra: Any) -> httpx.Response:
        return httpx.Response(
            status,
            json={"error": {"type": kind, "message": message, **extra}},
            headers={"request-id": "req_test123"},
        )


@pytest.fixture
def fake() -> type[StripeFake]:
    return StripeFake


@pytest.fixture
def stripe_api() -> Iterator[respx.MockRouter]:
    """Stripe's HTTP boundary; any other outbound call fails the test."""
    with http_boundary("https://api.stripe.com") as router:
        yield router


class Escrows:
    """Drives an item's lifecycle through the public routes, as the dashboards do."""

    def __init__(self, payments: Payments) -> None:
        self.payments = payments
        self.client = payments.client
        self.fleet = payments.fleet

    async def funded(
        self, amounts: tuple[int, ...] = (10000,), payout: bool = True, review_days: int = 14
    ) -> tuple[Contract, list[str]]:
        """An active contract whose items are all paid in; their escrow ids."""
        contract = await self.payments.activate(amounts, review_days)
        for index in range(len(amounts)):
            await self.payments.fund(contract, index)
        if payout:
            await self.payments.payout_ready(contract)
        items = (await self.payments.schedule(contract, contract.client))["items"]
        return contract, [i["escrowId"] for i in items]

    async def post(
        self, escrow_id: str, step: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/payments/escrow/{escrow_id}/{step}", headers=headers, json=body
        )

    async def upload(self, escrow_id: str, contract: Contract, content: bytes) -> str:
        """The contractor uploads a file through its presigned POST; its id."""
        asked = await self.post(
            escrow_id,
            "uploads",
            contract.contractor,
            {"contentType": "application/pdf", "size": len(content)},
        )
        assert asked.status_code == 201, asked.text
        upload = asked.json()["upload"]
        async with httpx.AsyncClient() as http:
            sent = await http.post(
                upload["url"],
                data=upload["fields"],
                files={"file": ("work.pdf", content, "application/pdf")},
            )
        assert sent.status_code in (200, 201, 204), sent.text
        file_id: str = asked.json()["fileId"]
        return file_id

    async def submit(
        self, escrow_id: str, contract: Contract, note: str = "Done", files: Any = ()
    ) -> dict[str, Any]:
        response = await self.post(
            escrow_id, "submissions", contract.contractor, {"note": note, "files": list(files)}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def detail(self, escrow_id: str, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.get(f"/v1/payments/escrow/{escrow_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def event(self, name: str, source: str, payload: Any) -> str:
        """``name`` on the bus in its producer's envelope; its event id."""
        detail = Detail(
            data=payload.model_dump(mode="json", by_alias=True), correlation_id=uuid.uuid4().hex
        )
        runtime = self.fleet.runtime("payment")
        response = await runtime.aws.events.put_events(
            Entries=[
                {
                    "EventBusName": runtime.settings.physical(runtime.fleet.bus),
                    "Source": f"mindlinks.{source}",
                    "DetailType": name,
                    "Detail": detail.model_dump_json(by_alias=True),
                }
            ]
        )
        assert response["FailedEntryCount"] == 0
        return detail.id

    @staticmethod
    def terminated(contract: Contract) -> ContractTerminated:
        """The contract service's ``contract.terminated`` for ``contract``, at once."""
        return ContractTerminated(
            contract_id=contract.id,
            title="Website redesign",
            client_company_id=contract.client_company_id,
            client_user_id=contract.client_user_id,
            contractor_id=contract.contractor_id,
            contractor_user_id=contract.contractor_user_id,
            by_user_id=contract.client_user_id,
            by_side="client",
            reason="Budget cut",
            notice_days=0,
            ended_at="2030-02-01T00:00:00.000000Z",
        )

    async def stripe_object(self, kind: str, escrow_id: str) -> Any:
        """The local Stripe's transfer (``tr``) or refund (``re``) of an item, if made."""
        deps = self.fleet.deps("payment")
        prefix = deps.settings.resource_prefix
        key = f"{prefix}{'transfer' if kind == 'tr' else 'refund'}-{escrow_id}"
        found: dict[str, Any] | None = await deps.local_stripe.objects.get(local_id(kind, key))
        return found


@pytest.fixture
def escrows(payments: Payments) -> Escrows:
    return Escrows(payments)
