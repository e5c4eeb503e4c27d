"""The contract service's tests run the real apps in-process — auth (JWKS,
service tokens) and contract — against the moto server and the real Redis.

The peers contract calls (client, contractor) are the real apps when they are
installed; until then stand-ins implementing exactly their internal routes are
mounted in their place (``mindlinks_dev.parties``), so the tests read the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.parties import (
    ONBOARDING,
    REAL_PEERS,
    ClientAccount,
    ContractorAccount,
    Parties,
)
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.events import EscrowSettled, SettlementOutcome
from mindlinks_kit.timers import Timers, firing_of

__all__ = ["ClientAccount", "Contracting", "ContractorAccount", "Parties"]
FINAL = b"%PDF-1.4\n% signed\n%%EOF\n"
"""A final document as the signature service stores it."""


class Contracting(Parties):
    """The parties, and payment's events as the contract service hears them."""

    @staticmethod
    def settled(
        contract: dict[str, Any],
        *,
        all_settled: bool = True,
        outcome: SettlementOutcome = "released",
    ) -> EscrowSettled:
        """``payment.item-settled`` of the contract's one item (``all_settled``:
        every item it has is final now), all its money one way."""
        amount = contract["totalMinor"]
        released = amount if outcome == "released" else 0
        return EscrowSettled(
            contract_id=contract["id"],
            item_id=f"{contract['id']}-0",
            escrow_id=uuid.uuid4().hex,
            client_company_id=contract["clientCompanyId"],
            client_user_id=contract["clientUserId"],
            contractor_id=contract["contractorId"],
            contractor_user_id=contract["contractorUserId"],
            amount_minor=amount,
            currency=contract["currency"],
            outcome=outcome,
            released_minor=released,
            refunded_minor=amount - released if outcome != "cancelled" else 0,
            reason="approved" if outcome == "released" else "terminated",
            by_user_id=None,
            all_settled=all_settled,
        )

    async def fully_signed(
        self, client: ClientAccount, contractor: ContractorAccount, **overrides: Any
    ) -> dict[str, Any]:
        """A contract between the two, sent and signed by both the way the
        signature service moves it (the final document stored first)."""
        contract = await self.draft(client, contractor, **overrides)
        cid = contract["id"]
        api = self.contract_api()
        service = self.fleet.service_bearer("signature")
        sent = await api.post(f"/v1/contracts/{cid}/send", headers=client.headers)
        assert sent.status_code == 200, sent.text
        for to, version, actor in (
            ("client_signed", 2, client.user_id),
            ("fully_signed", 4, contractor.user_id),
        ):
            if to == "fully_signed":
                put = await api.put(
                    f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=service
                )
                assert put.status_code == 200, put.text
            moved = await api.post(
                f"/internal/contracts/{cid}/transitions",
                json={"to": to, "expectedVersion": version, "actorUserId": actor},
                headers=service,
            )
            assert moved.status_code == 200, moved.text
        signed: dict[str, Any] = moved.json()
        assert signed["status"] == "fully_signed"
        return signed

    async def active(
        self, client: ClientAccount, contractor: ContractorAccount, **overrides: Any
    ) -> dict[str, Any]:
        """A contract between the two, moved to ``active`` the way production moves it."""
        signed = await self.fully_signed(client, contractor, **overrides)
        await self.emit("ledger", "ledger.contract-activated", self.activated(signed))
        activated = await self.contract(signed["id"])
        assert activated["status"] == "active"
        return activated

    # -- the signing deadline (issue 16) -------------------------------------

    def contract_api(self) -> httpx.AsyncClient:
        return self.fleet.client("contract")

    def contract_timers(self) -> Timers:
        found = self.fleet.runtime("contract").timers
        assert found is not None
        return found

    async def send_draft(
        self, client: ClientAccount, contractor: ContractorAccount, **overrides: Any
    ) -> dict[str, Any]:
        """A new draft between the two (``overrides``: its body's), sent."""
        contract = await self.draft(client, contractor, **overrides)
        response = await self.contract_api().post(
            f"/v1/contracts/{contract['id']}/send", headers=client.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def signature_move(
        self, contract: dict[str, Any], to: str, actor: str, company: str | None = None
    ) -> httpx.Response:
        """The signature service's move at the contract's version as read
        (``fully_signed``: the final document stored first, as it does)."""
        service = self.fleet.service_bearer("signature")
        cid = contract["id"]
        if to == "fully_signed":
            put = await self.contract_api().put(
                f"/internal/contracts/{cid}/documents/final", content=FINAL, headers=service
            )
            assert put.status_code == 200, put.text
            contract = await self.contract(cid)
        body: dict[str, Any] = {
            "to": to,
            "expectedVersion": contract["version"],
            "actorUserId": actor,
        }
        if company is not None:
            body["actorCompanyId"] = company
        return await self.contract_api().post(
            f"/internal/contracts/{cid}/transitions", json=body, headers=service
        )

    async def fire_twice(self, name: str, contract_id: str) -> list[bool]:
        """The pending timer delivered twice at once (a schedule and a sweep,
        say), then a third time late: the sorted outcomes of the first two."""
        timers = self.contract_timers()
        pending = await timers.pending(name, contract_id)
        assert pending is not None, name
        firing = firing_of(pending)
        outcomes = await asyncio.gather(timers.fire(firing), timers.fire(firing))
        assert not await timers.fire(firing)
        return sorted(outcomes)

    async def remind(self, contract_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.contract_api().post(
            f"/v1/contracts/{contract_id}/reminders", headers=headers
        )

    async def extend_deadline(
        self, contract_id: str, headers: dict[str, str], deadline: Any
    ) -> httpx.Response:
        return await self.contract_api().post(
            f"/v1/contracts/{contract_id}/signing-deadline",
            headers=headers,
            json={"signingDeadline": deadline},
        )


@pytest.fixture(scope="module")
async def world(start_services: StartServices) -> AsyncIterator[Contracting]:
    async with start_services("auth", *ONBOARDING, "contract") as fleet:
        directory = Directory()
        # Payment is not started here: its stand-in says where items stand.
        fleet.runtime("contract").peers.mount(
            "payment", httpx.ASGITransport(app=directory.payment_app())
        )
        if not REAL_PEERS:
            peers = fleet.runtime("contract").peers
            peers.mount("client", httpx.ASGITransport(app=directory.client_app()))
            peers.mount("contractor", httpx.ASGITransport(app=directory.contractor_app()))
        yield Contracting(fleet, directory)


@pytest.fixture
def fleet(world: Parties) -> Running:
    return world.fleet
