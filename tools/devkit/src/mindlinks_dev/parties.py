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
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pypdf import PdfReader

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.problem import problem
from mindlinks_fleet.events import KycDecided

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
    """Stand-ins for the client and contractor services' internal routes."""

    companies: dict[str, dict[str, Any]] = field(default_factory=dict)
    contractors: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    """The ledger stand-in's journal."""

    def _missing(self) -> JSONResponse:
        return JSONResponse(
            {"type": "about:blank", "title": "Not found", "status": 404, "code": "not-found"},
            status_code=404,
            media_type="application/problem+json",
        )

    def client_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/clients/companies/by-owner/{user_id}", response_model=None)
        async def by_owner(
            user_id: str, authorization: str = Header()
        ) -> dict[str, Any] | JSONResponse:
            assert authorization.startswith("Bearer ")
            found = [c for c in self.companies.values() if c["ownerUserId"] == user_id]
            return found[0] if found else self._missing()

        @app.get("/internal/clients/companies/{company_id}", response_model=None)
        async def company(
            company_id: str, authorization: str = Header()
        ) -> dict[str, Any] | JSONResponse:
            assert authorization.startswith("Bearer ")
            return self.companies.get(company_id) or self._missing()

        return app

    def contractor_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/contractors/by-user/{user_id}", response_model=None)
        async def by_user(
            user_id: str, authorization: str = Header()
        ) -> dict[str, Any] | JSONResponse:
            assert authorization.startswith("Bearer ")
            found = [c for c in self.contractors.values() if c["userId"] == user_id]
            return found[0] if found else self._missing()

        @app.get("/internal/contractors/{contractor_id}", response_model=None)
        async def contractor(
            contractor_id: str, authorization: str = Header()
        ) -> dict[str, Any] | JSONResponse:
            assert authorization.startswith("Bearer ")
            return self.contractors.get(contractor_id) or self._missing()

        return app

    def ledger_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/internal/ledger/entries", response_model=None)
        async def append(body: dict[str, Any], authorization: str = Header()) -> JSONResponse:
            assert authorization.startswith("Bearer ")
            for entry in self.entries:
                if entry["idempotencyKey"] == body["idempotencyKey"]:
                    assert (entry["kind"], entry["subject"], entry["data"]) == (
                        body["kind"],
                        body["subject"],
                        body["data"],
                    ), "same key, other entry"
                    return JSONResponse(entry["receipt"], status_code=200)
            seq = len(self.entries) + 1
            receipt = {
                "seq": seq,
                "entryHash": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
                "recordedAt": "2026-03-02T10:00:00.000000Z",
            }
            self.entries.append({**body, "receipt": receipt})
            return JSONResponse(receipt, status_code=201)

        return app


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
                "status": status,
                "ownerUserId": user_id,
                "jurisdictionCode": "gb",
                "companyNumber": local_company().company_number,
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
                "kycStatus": kyc,
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
            f"/internal/contractors/by-user/{user_id}", headers=fleet.service_bearer("contract")
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
            f"/internal/contracts/{contract_id}/document",
            params={"kind": kind},
            headers=self.fleet.service_bearer("signature"),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        return response.content

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
