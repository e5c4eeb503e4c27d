"""Parties for tests of the contract lifecycle: an active company and a
KYC-verified contractor engaged with it, made the production way through the
real client and contractor services (steps 1-4 of docs/lifecycle.md) when
they are installed, else answered by stand-ins implementing exactly their
internal routes (``MINDLINKS_TEST_STAND_INS=1`` forces the stand-ins, which is
faster; ``mindlinks_dev.stand_ins``). Shared by the contract, signature, kyc
and admin services' tests."""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel
from pypdf import PdfReader

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.people import register
from mindlinks_dev.problem import problem
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.events import ContractActivated, KycDecided, PaymentReleased, ScheduleItem
from mindlinks_fleet.internal import contract, contractor

REAL_PEERS = {"client", "contractor"} <= set(installed_services()) and not os.environ.get(
    "MINDLINKS_TEST_STAND_INS"
)
"""Both peers installed (and ``MINDLINKS_TEST_STAND_INS`` unset): companies and
contractors are made the production way (steps 1-4 of docs/lifecycle.md);
otherwise stand-ins answer the peers' internal routes."""
ONBOARDING = ("user", "notification", "client", "contractor") if REAL_PEERS else ()


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


async def add_member(
    fleet: Running, company_id: str, user_id: str, role: str, added_by_user_id: str
) -> None:
    """``user_id`` a member of ``company_id`` with ``role``, written where the
    running client service keeps members (its ``members`` table, both sides
    of the adjacency list); then every running service forgets the user's
    cached memberships, as the ``company.member-added`` revocation makes them do."""
    member = {
        "companyId": company_id,
        "userId": user_id,
        "role": role,
        "addedAt": "2026-03-01T10:00:00.000000Z",
        "addedByUserId": added_by_user_id,
        "version": 1,
    }
    members = fleet.runtime("client").table("members")
    for pk, sk in (
        (f"company#{company_id}", f"user#{user_id}"),
        (f"user#{user_id}", f"company#{company_id}"),
    ):
        await members.put({**member, "pk": pk, "sk": sk})
    forget_memberships(fleet, user_id)


def forget_memberships(fleet: Running, user_id: str) -> None:
    for name in fleet.apps:
        known = fleet.runtime(name).members
        if known is not None:
            known.forget(user_id)


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
        owner = await register(self.fleet, "client", "Ada Owner")
        user_id, headers = owner.user_id, owner.headers
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

    async def member(
        self, client: ClientAccount, role: str, user_id: str | None = None
    ) -> ClientAccount:
        """A ``client`` account with ``role`` in ``client``'s company: a new one,
        or ``user_id``'s (a member of several companies then). Written where
        the client service keeps members (its ``members`` table, both sides of
        the adjacency list) or into the stand-in's directory; every running
        service then forgets the user's cached memberships, as the
        ``company.member-added`` revocation makes them do."""
        user_id = user_id or uuid.uuid4().hex
        if REAL_PEERS:
            await add_member(self.fleet, client.company_id, user_id, role, client.user_id)
        else:
            self.directory.members.setdefault(user_id, {})[client.company_id] = role
            forget_memberships(self.fleet, user_id)
        return ClientAccount(
            user_id, client.company_id, client.legal_name, self.headers(user_id, "client")
        )

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
        person = await register(self.fleet, "contractor", name, email)
        user_id, headers = person.user_id, person.headers
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

    async def sent(self) -> tuple[ClientAccount, ContractorAccount, dict[str, Any]]:
        """A contract sent for signature (between the module's shared pair)."""
        client, contractor = await self.shared_pair()
        contract = await self.draft(client, contractor)
        response = await self.fleet.client("contract").post(
            f"/v1/contracts/{contract['id']}/send", headers=client.headers
        )
        assert response.status_code == 200, response.text
        return client, contractor, response.json()

    async def contract(self, contract_id: str) -> dict[str, Any]:
        """The contract as the contract service answers the ledger."""
        response = await self.fleet.client("contract").get(
            contract.CONTRACT.fill(contract_id), headers=self.fleet.service_bearer("ledger")
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def edit_profile(self, contractor: ContractorAccount, **fields: Any) -> httpx.Response:
        """The contractor's own ``PATCH /v1/contractors/me`` of ``fields``, at
        the profile's current version (the real contractor service)."""
        profiles = self.fleet.client("contractor")
        me = await profiles.get("/v1/contractors/me", headers=contractor.headers)
        assert me.status_code == 200, me.text
        return await profiles.patch(
            "/v1/contractors/me",
            headers=contractor.headers,
            json={**fields, "version": me.json()["version"]},
        )

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
        answers it: one schedule item per line of its terms, as the ledger names them."""
        terms = contract["terms"]
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
                    item_id=f"{contract['id']}-{index}",
                    title=line.get("title", contract["title"]),
                    amount_minor=line["amountMinor"],
                    due_date=line["dueDate"],
                )
                for index, line in enumerate(terms.get("milestones", [terms]))
            ],
            ledger_entry_id=ledger_entry_id,
        )

    @staticmethod
    def released(contract: dict[str, Any], all_released: bool = True) -> PaymentReleased:
        """``payment.released`` of the contract's one schedule item, to its
        contractor (``all_released``: the last item the contract had)."""
        return PaymentReleased(
            contract_id=contract["id"],
            item_id=f"{contract['id']}-0",
            escrow_id=uuid.uuid4().hex,
            transfer_id=f"tr_{uuid.uuid4().hex[:12]}",
            client_user_id=contract["clientUserId"],
            contractor_user_id=contract["contractorUserId"],
            contractor_id=contract["contractorId"],
            amount_minor=contract["totalMinor"],
            currency=contract["currency"],
            all_released=all_released,
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
