"""The client service's tests run the real apps in-process — auth (accounts,
JWKS, service tokens), user and notification (the invitation mail, the
in-app notes) and client — against the moto server and the real Redis. The
business registry is the local one (fixtures) unless a test puts the real
OpenCorporates adapter behind respx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mindlinks_dev import people
from mindlinks_dev.harness import Running
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.people import Account, People
from mindlinks_dev.pytest_plugin import StartServices

__all__ = ["Account", "World"]

ADDRESS = {"line1": "1 Example Street", "city": "London", "postalCode": "EC1A 1AA", "country": "gb"}


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "user", "notification", "client") as running:
        yield running


class World(People):
    """Accounts made through auth's public API (user.created travels the real
    path), companies and invitations through the client service's API."""

    ADDRESS = ADDRESS

    def __init__(self, fleet: Running) -> None:
        super().__init__(fleet)
        self.client = fleet.client("client")

    async def account(self, role: str = "client", name: str = "Ada Lovelace") -> Account:
        account = await people.register(self.fleet, role, name)
        await self.fleet.deliver()  # the profile (user) and the welcome (notification)
        return account

    async def register(
        self,
        account: Account,
        number: str | None = None,
        legal_name: str | None = None,
        jurisdiction: str = "gb",
        **extra: Any,
    ) -> httpx.Response:
        """Without a number: a fresh ``gb/ML`` one (active, its own)."""
        if number is None:
            local = local_company()
            number, legal_name = local.company_number, legal_name or local.legal_name
        return await self.client.post(
            "/v1/clients/register",
            headers=account.headers,
            json={
                "legalName": legal_name or "Acme Widgets Ltd",
                "jurisdictionCode": jurisdiction,
                "companyNumber": number,
                "address": ADDRESS,
                **extra,
            },
        )

    async def company_owner(self, name: str = "Ada Lovelace") -> Account:
        owner = await self.account("client", name)
        response = await self.register(owner)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "active"
        return owner

    async def company_name(self, owner: Account) -> str:
        response = await self.client.get("/v1/clients/me", headers=owner.headers)
        assert response.status_code == 200, response.text
        name: str = response.json()["legalName"]
        return name

    async def invite(self, owner: Account, email: str, name: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"email": email}
        if name is not None:
            body["name"] = name
        return await self.client.post(
            "/v1/clients/invite-contractor", headers=owner.headers, json=body
        )

    async def invitation_token(self, to: str) -> str:
        mails = [m for m in await self.mailbox(to) if m["template"] == "client.invitation"]
        assert mails, f"no invitation mailed to {to}"
        token: str = mails[0]["data"]["token"]
        return token

    async def redeem(
        self,
        token: str,
        *,
        contractor_id: str,
        user_id: str,
        email: str,
        service: str = "contractor",
    ) -> httpx.Response:
        return await self.client.post(
            "/internal/clients/invitations/redeem",
            headers=self.fleet.service_bearer(service),
            json={
                "token": token,
                "contractorId": contractor_id,
                "userId": user_id,
                "email": email,
                "name": "Grace Hopper",
            },
        )

    # teams ---------------------------------------------------------------------

    async def company_id(self, owner: Account) -> str:
        response = await self.client.get("/v1/clients/me", headers=owner.headers)
        assert response.status_code == 200, response.text
        company_id: str = response.json()["id"]
        return company_id

    async def invite_member(
        self, actor: Account, email: str, role: str, company_id: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/clients/me/member-invitations",
            headers=self.acting(actor, company_id),
            json={"email": email, "role": role},
        )

    async def member_token(self, to: str) -> str:
        mails = [m for m in await self.mailbox(to) if m["template"] == "client.member-invitation"]
        assert mails, f"no member invitation mailed to {to}"
        token: str = mails[0]["data"]["token"]
        return token

    async def accept(self, account: Account, token: str) -> httpx.Response:
        return await self.client.post(
            "/v1/clients/member-invitations/accept", headers=account.headers, json={"token": token}
        )

    async def member(
        self, owner: Account, role: str, name: str = "Grace Hopper", company_id: str | None = None
    ) -> Account:
        """A new client account that accepted ``owner``'s invitation in ``role``."""
        email = people.new_email()
        response = await self.invite_member(owner, email, role, company_id)
        assert response.status_code == 201, response.text
        account = await people.register(self.fleet, "client", name, email=email)
        await self.fleet.deliver()
        joined = await self.accept(account, await self.member_token(email))
        assert joined.status_code == 200, joined.text
        await self.fleet.deliver()
        return account

    @staticmethod
    def acting(account: Account, company_id: str | None) -> dict[str, str]:
        """``account``'s headers, acting for ``company_id`` when given."""
        if company_id is None:
            return account.headers
        return {**account.headers, "X-Company-Id": company_id}

    async def published(self, name: str) -> list[dict[str, Any]]:
        """The payloads of ``name`` events in the client service's outbox."""
        return await self.fleet.published("client", name)


@pytest.fixture
def world(fleet: Running) -> World:
    return World(fleet)
