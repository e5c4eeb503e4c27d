"""Parties for tests of the contract lifecycle: an active company and a
KYC-verified contractor engaged with it, made the production way through the
real client and contractor services (steps 1-4 of docs/lifecycle.md) when
they are installed, else answered by stand-ins implementing exactly their
internal routes (``MINDLINKS_TEST_STAND_INS=1`` forces the stand-ins, which is
faster). Shared by the contract and signature services' tests."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from fastapi import APIRouter, FastAPI, Header, Response
from pydantic import BaseModel
from pypdf import PdfReader

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.problem import problem
from mindlinks_fleet.events import ContractActivated, KycDecided, ScheduleItem
from mindlinks_fleet.internal import client, contract, contractor, ledger
from mindlinks_fleet.internal.ledger import AppendIn, AppendOut
from mindlinks_kit.auth import ServiceCaller, service_caller
from mindlinks_kit.errors import NotFound, install_handlers
from mindlinks_kit.internal import serve

REAL_PEERS = {"client", "contractor"} <= set(installed_services()) and not os.environ.get(
    "MINDLINKS_TEST_STAND_INS"
)
"""Both peers installed (and ``MINDLINKS_TEST_STAND_INS`` unset): companies and
contractors are made the production way (steps 1-4 of docs/lifecycle.md);
otherwise stand-ins answer the peers' internal routes."""
ONBOARDING = ("user", "notification", "client", "contractor") if REAL_PEERS else ()
PASSWORD = "correct horse battery staple"  # noqa: S105 - throwaway test accounts


@dataclass(frozen=True)
class ClientAccount:
    user_id: str
    company_id: str
    legal_name: str
    headers: dict[str, str]


@dataclass(frozen=True)
class ContractorAccount:
    user_id: str
    contractor_id: str
    name: str
    email: str
    headers: dict[str, str]


@dataclass
class Directory:
    """Stand-ins for the client, contractor and ledger services' internal
    routes, mounted from their declarations (``mindlinks_fleet.internal``):
    the same paths, answer models and allowed callers as the real owners, so
    they cannot drift from them."""

    companies: dict[str, dict[str, Any]] = field(default_factory=dict)
    contractors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Records as the owners answer them (camelCase), which tests may edit."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    """The ledger stand-in's journal: each appended body with its ``receipt``."""

    def _app(self) -> tuple[FastAPI, APIRouter]:
        app = FastAPI()
        install_handlers(app)
        # Who calls, from the service token's subject: the declared callers'
        # check then runs as it does on the real owner (signatures are the
        # real owners' business, not the stand-ins').
        app.dependency_overrides[service_caller] = _unverified_caller
        return app, APIRouter()

    def client_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, client.COMPANY_BY_OWNER)
        async def by_owner(user_id: str) -> dict[str, Any]:
            found = [c for c in self.companies.values() if c["ownerUserId"] == user_id]
            if not found:
                raise NotFound()
            return found[0]

        @serve(router, client.COMPANY)
        async def company(company_id: str) -> dict[str, Any]:
            if company_id not in self.companies:
                raise NotFound()
            return self.companies[company_id]

        app.include_router(router)
        return app

    def contractor_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, contractor.CONTRACTOR_BY_USER)
        async def by_user(user_id: str) -> dict[str, Any]:
            found = [c for c in self.contractors.values() if c["userId"] == user_id]
            if not found:
                raise NotFound()
            return found[0]

        @serve(router, contractor.CONTRACTOR)
        async def by_id(contractor_id: str) -> dict[str, Any]:
            if contractor_id not in self.contractors:
                raise NotFound()
            return self.contractors[contractor_id]

        app.include_router(router)
        return app

    def ledger_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, ledger.APPEND)
        async def append(body: AppendIn, response: Response) -> dict[str, Any]:
            wire = body.model_dump(mode="json", by_alias=True)
            for entry in self.entries:
                if entry["idempotencyKey"] == wire["idempotencyKey"]:
                    assert (entry["kind"], entry["subject"], entry["data"]) == (
                        wire["kind"],
                        wire["subject"],
                        wire["data"],
                    ), "same key, other entry"
                    response.status_code = 200
                    receipt: dict[str, Any] = entry["receipt"]
                    return receipt
            content = hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()
            previous = self.entries[-1]["receipt"]["entryHash"] if self.entries else "0" * 64
            receipt = AppendOut(
                seq=len(self.entries) + 1,
                entry_hash=hashlib.sha256((previous + content).encode()).hexdigest(),
                content_hash=content,
                prev_hash=previous,
                recorded_at="2026-03-02T10:00:00.000000Z",
            ).model_dump(mode="json", by_alias=True)
            self.entries.append({**wire, "receipt": receipt})
            return receipt

        app.include_router(router)
        return app


async def _unverified_caller(authorization: str = Header()) -> ServiceCaller:
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer", "stand-ins are called with a service token"
    claims = jwt.decode(token, options={"verify_signature": False})
    return ServiceCaller(service=str(claims["sub"]), user=None)


def registry(status: str) -> tuple[str, str, str]:
    """A registration the real client service's local registry answers with
    ``status``, on a fresh ``gb/ML`` number (one active company per number, so
    approving a held one never meets another test's): its registered name →
    active; another name → pending_review (``name-mismatch``)."""
    company = local_company()
    if status == "active":
        return company.jurisdiction_code, company.company_number, company.legal_name
    if status == "pending_review":
        return company.jurisdiction_code, company.company_number, "Held For Review Ltd"
    raise ValueError(f"no registration gives {status!r}")


class Parties:
    def __init__(self, fleet: Running, directory: Directory) -> None:
        self.fleet = fleet
        self.directory = directory
        self._shared: tuple[ClientAccount, ContractorAccount] | None = None

    def headers(self, user_id: str, role: str) -> dict[str, str]:
        return self.fleet.bearer(user_id, role)

    async def client(self, status: str = "active") -> ClientAccount:
        """A client user owning a company in ``status`` (``active``/``pending_review``)."""
        if not REAL_PEERS:
            user_id = uuid.uuid4().hex
            company_id = uuid.uuid4().hex
            name = f"Acme {company_id[:6]} Ltd"
            self.directory.companies[company_id] = {
                "id": company_id,
                "legalName": name,
                "tradingName": None,
                "status": status,
                "ownerUserId": user_id,
                "jurisdictionCode": "gb",
                "companyNumber": local_company().company_number,
                "nameMismatch": False,
            }
            return ClientAccount(user_id, company_id, name, self.headers(user_id, "client"))
        user_id = await self._register("client", "Ada Owner")
        headers = self.headers(user_id, "client")
        jurisdiction, number, name = registry(status)
        response = await self.fleet.client("client").post(
            "/v1/clients/register",
            headers=headers,
            json={
                "legalName": name,
                "jurisdictionCode": jurisdiction,
                "companyNumber": number,
                "address": {
                    "line1": "1 Example Street",
                    "city": "London",
                    "postalCode": "EC1A 1AA",
                    "country": "GB",
                },
            },
        )
        _step("register the company", response, 201)
        company = response.json()
        assert company["status"] == status, company
        return ClientAccount(user_id, company["id"], company["legalName"], headers)

    async def contractor(
        self, client: ClientAccount, kyc: str = "verified", name: str = "Grace Hopper"
    ) -> ContractorAccount:
        """A contractor engaged with ``client``'s company, KYC-verified unless told."""
        if not REAL_PEERS:
            user_id = uuid.uuid4().hex
            contractor_id = uuid.uuid4().hex
            email = f"{user_id[:12]}@example.com"
            self.directory.contractors[contractor_id] = {
                "id": contractor_id,
                "userId": user_id,
                "name": name,
                "displayName": None,
                "verifiedLegalName": name if kyc == "verified" else None,
                "email": email,
                # As the real services end up: only a verification moves it.
                "kycStatus": "verified" if kyc == "verified" else "not_started",
                "companyIds": [client.company_id],
            }
            return ContractorAccount(
                user_id, contractor_id, name, email, self.headers(user_id, "contractor")
            )
        fleet = self.fleet
        email = f"{uuid.uuid4().hex}@example.com"
        invited = await fleet.client("client").post(
            "/v1/clients/invite-contractor",
            headers=client.headers,
            json={"email": email, "name": name},
        )
        _step("invite the contractor", invited, 201)
        mailbox = await fleet.client("notification").get(
            "/v1/notifications/dev/mailbox", params={"to": email}
        )
        _step("read the invitation mail", mailbox, 200)
        token = mailbox.json()["items"][0]["data"]["token"]
        user_id = await self._register("contractor", name, email)
        headers = self.headers(user_id, "contractor")
        accepted = await fleet.client("contractor").post(
            "/v1/contractors/accept-invitation", headers=headers, json={"token": token}
        )
        _step("accept the invitation", accepted, 200, 201)
        await fleet.deliver()
        found = await fleet.client("contractor").get(
            contractor.CONTRACTOR_BY_USER.fill(user_id), headers=fleet.service_bearer("contract")
        )
        _step("find the contractor by user", found, 200)
        contractor_id = str(found.json()["id"])
        if kyc == "verified":
            await self.emit(
                "kyc",
                "kyc.verified",
                KycDecided(
                    session_id=uuid.uuid4().hex,
                    contractor_id=contractor_id,
                    user_id=user_id,
                    provider="veriff",
                    verified_legal_name=name,
                ),
            )
        return ContractorAccount(user_id, contractor_id, name, email, headers)

    async def _register(self, role: str, name: str, email: str | None = None) -> str:
        email = email or f"{uuid.uuid4().hex}@example.com"
        response = await self.fleet.client("auth").post(
            "/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": name, "role": role},
        )
        _step(f"register a {role}", response, 202)
        return await self.fleet.user_id_of(email)

    @staticmethod
    def fixed_terms(amount_minor: int = 150_000, due: str = "2026-03-31") -> dict[str, Any]:
        return {"kind": "fixed", "amountMinor": amount_minor, "dueDate": due}

    def body(self, contractor: ContractorAccount, **overrides: Any) -> dict[str, Any]:
        """A valid ``POST /v1/contracts`` body."""
        return {
            "contractorId": contractor.contractor_id,
            "title": "Website redesign",
            "description": "Design and build the new marketing site.\n\nTwo review rounds.",
            "currency": "EUR",
            "startDate": "2026-03-01",
            "terms": self.fixed_terms(),
            **overrides,
        }

    async def draft(
        self, client: ClientAccount, contractor: ContractorAccount, **overrides: Any
    ) -> dict[str, Any]:
        response = await self.fleet.client("contract").post(
            "/v1/contracts", json=self.body(contractor, **overrides), headers=client.headers
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def pair(self) -> tuple[ClientAccount, ContractorAccount]:
        """An active company and a verified contractor engaged with it."""
        client = await self.client()
        return client, await self.contractor(client)

    async def shared_pair(self) -> tuple[ClientAccount, ContractorAccount]:
        """One pair for the module's tests that only need some valid parties."""
        if self._shared is None:
            self._shared = await self.pair()
        return self._shared

    async def document(self, contract_id: str, kind: str = "original") -> bytes:
        """The stored PDF, as the signature service reads it."""
        response = await self.fleet.client("contract").get(
            contract.DOCUMENT.fill(contract_id),
            params={"kind": kind},
            headers=self.fleet.service_bearer("signature"),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        return response.content

    @staticmethod
    def activated(contract: dict[str, Any], ledger_entry_id: int = 7) -> ContractActivated:
        """``ledger.contract-activated`` for a contract as the contract service
        answers it: one schedule item for the whole amount."""
        return ContractActivated(
            contract_id=contract["id"],
            title=contract["title"],
            client_company_id=contract["clientCompanyId"],
            client_user_id=contract["clientUserId"],
            contractor_id=contract["contractorId"],
            contractor_user_id=contract["contractorUserId"],
            currency=contract["currency"],
            schedule=[
                ScheduleItem(
                    item_id=f"{contract['id']}-0",
                    title=contract["title"],
                    amount_minor=contract["totalMinor"],
                    due_date=contract["terms"]["dueDate"],
                )
            ],
            ledger_entry_id=ledger_entry_id,
        )

    @staticmethod
    def pdf_text(data: bytes) -> str:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)

    problem = staticmethod(problem)

    async def events(
        self, name: str, contract_id: str, service: str = "contract"
    ) -> list[dict[str, Any]]:
        """The payloads of ``name`` events ``service`` wrote for ``contract_id``."""
        return await self.fleet.published(service, name, contractId=contract_id)

    async def emit(
        self, producer: str, name: str, payload: BaseModel, event_id: str | None = None
    ) -> str:
        """``name`` from ``producer`` (the catalog's), delivered (``Running.emit``)."""
        return await self.fleet.emit(name, payload, event_id)


def _step(what: str, response: httpx.Response, *ok: int) -> None:
    if response.status_code not in ok:
        raise AssertionError(
            f"onboarding through the real client/contractor services failed to {what}: "
            f"{response.status_code} {response.text[:500]} "
            "(align mindlinks_dev.parties with those services)"
        )
