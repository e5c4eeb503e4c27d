"""The contractor service's tests run the real apps in-process — auth
(accounts, JWKS, service tokens), user and notification (mail, in-app), client
(companies, invitations: the real redeeming peer) and contractor — against the
moto server and the real Redis. KYC decisions come from the kyc service's
outbox when it is installed, else they are put on the bus exactly as it would
(source ``mindlinks.kyc``, the envelope) — and then travel the real path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from mindlinks_dev import people
from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.people import Account, People
from mindlinks_dev.pytest_plugin import StartServices

__all__ = ["Account", "World"]

ADDRESS = {"line1": "1 Example Street", "city": "London", "postalCode": "EC1A 1AA", "country": "GB"}
STAND_INS = [name for name in ("kyc",) if name in installed_services()]


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    names = ("auth", "user", "notification", "client", "contractor", *STAND_INS)
    async with start_services(*names) as running:
        yield running


class World(People):
    def __init__(self, fleet: Running) -> None:
        super().__init__(fleet)
        self.contractor = fleet.client("contractor")
        self.client = fleet.client("client")

    async def account(
        self, role: str = "contractor", name: str = "Grace Hopper", email: str | None = None
    ) -> Account:
        account = await people.register(self.fleet, role, name, email)
        await self.fleet.deliver()
        return account

    async def company_owner(self) -> Account:
        """A client owning an active company of its own (a fresh ``gb/ML``
        number: one active company per registry number)."""
        local = local_company()
        number, legal_name = local.company_number, local.legal_name
        owner = await self.account("client", "Ada Lovelace")
        response = await self.client.post(
            "/v1/clients/register",
            headers=owner.headers,
            json={
                "legalName": legal_name,
                "jurisdictionCode": "gb",
                "companyNumber": number,
                "address": ADDRESS,
            },
        )
        assert response.status_code == 201, response.text
        return owner

    async def invitation(self, owner: Account, email: str) -> tuple[str, str]:
        """(invitation id, token from the mail)."""
        response = await self.client.post(
            "/v1/clients/invite-contractor", headers=owner.headers, json={"email": email}
        )
        assert response.status_code == 201, response.text
        mails = await self.mailbox(email)  # newest first
        token = next(m["data"]["token"] for m in mails if m["template"] == "client.invitation")
        return response.json()["id"], str(token)

    async def accept(self, account: Account, token: str) -> httpx.Response:
        return await self.contractor.post(
            "/v1/contractors/accept-invitation", headers=account.headers, json={"token": token}
        )

    async def onboarded(
        self, name: str = "Grace Hopper"
    ) -> tuple[Account, Account, dict[str, Any]]:
        """(company owner, contractor, the acceptance)."""
        owner = await self.company_owner()
        contractor = await self.account("contractor", name)
        _, token = await self.invitation(owner, contractor.email)
        response = await self.accept(contractor, token)
        assert response.status_code == 200, response.text
        return owner, contractor, response.json()

    async def published(self, name: str) -> list[dict[str, Any]]:
        """The payloads of ``name`` events in the contractor service's outbox."""
        return await self.fleet.published("contractor", name)

    async def emit(self, name: str, payload: BaseModel) -> str:
        """Publish ``name`` as its producer would, then deliver everything."""
        return await self.fleet.emit(name, payload)


@pytest.fixture
def world(fleet: Running) -> World:
    return World(fleet)
