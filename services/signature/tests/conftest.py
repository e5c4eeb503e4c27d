"""The signature service's tests run the real apps in-process — auth, contract
and signature — against the moto server and the real Redis.

The peers being written beside it are the real apps when they are installed
(then companies and contractors are onboarded the production way, and the
real ledger journals the signatures and activates the contract); until then
stand-ins implementing exactly their internal routes from docs/lifecycle.md
are mounted in their place: client and contractor for the contract service,
the ledger for the signature service."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mindlinks_dev import parties
from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.parties import (
    ONBOARDING,
    REAL_PEERS,
    ClientAccount,
    ContractorAccount,
)
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.step_up import AMENDMENT_SIGN, CONTRACT_SIGN, amendment_subject, purpose

__all__ = ["ClientAccount", "ContractorAccount", "Parties"]

REAL_LEDGER = "ledger" in installed_services() and not os.environ.get("MINDLINKS_TEST_STAND_INS")


class Parties(parties.Parties):
    """The lifecycle's parties, plus signing."""

    async def sign(
        self,
        account: ClientAccount | ContractorAccount,
        contract_id: str,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        """Sign as ``account``, with a fresh step-up token of theirs for this
        contract unless ``body`` gives ``stepUpToken`` (``None``: none sent)."""
        if "stepUpToken" not in body:
            body["stepUpToken"] = self.step_up(account, contract_id)
        elif body["stepUpToken"] is None:
            del body["stepUpToken"]
        return await self.fleet.client("signature").post(
            f"/v1/signatures/contracts/{contract_id}/sign",
            json={"consent": True, "signatureName": _name(account), **body},
            headers={**account.headers, **(headers or {})},
        )

    def step_up(
        self, account: ClientAccount | ContractorAccount, contract_id: str, **options: Any
    ) -> str:
        """A step-up token auth would grant ``account`` for signing ``contract_id``."""
        return self.fleet.step_up_token(
            account.user_id, purpose(CONTRACT_SIGN, contract_id), **options
        )

    async def sign_amendment(
        self,
        account: ClientAccount | ContractorAccount,
        contract_id: str,
        number: int,
        **body: Any,
    ) -> httpx.Response:
        """Sign amendment ``number`` as ``account``, stepped up for it unless
        ``body`` gives ``stepUpToken``."""
        if "stepUpToken" not in body:
            body["stepUpToken"] = self.fleet.step_up_token(
                account.user_id, purpose(AMENDMENT_SIGN, amendment_subject(contract_id, number))
            )
        return await self.fleet.client("signature").post(
            f"/v1/signatures/contracts/{contract_id}/amendments/{number}/sign",
            json={"consent": True, "signatureName": _name(account), **body},
            headers=account.headers,
        )

    async def ledger_entries(self, contract_id: str) -> list[dict[str, Any]]:
        """The signature entries journaled for the contract (real ledger or stand-in)."""
        if not REAL_LEDGER:
            return [
                {"kind": e["kind"], "data": e["data"], "seq": e["receipt"]["seq"]}
                for e in self.directory.entries
                if e["subject"] == contract_id
            ]
        response = await self.fleet.client("ledger").get(
            f"/internal/ledger/subjects/{contract_id}", headers=self.fleet.service_bearer("admin")
        )
        assert response.status_code == 200, response.text
        return [
            {"kind": e["kind"], "data": e["data"], "seq": e["seq"]}
            for e in response.json()["items"]
            if e["kind"] == "signature"
        ]

    async def events(
        self, name: str, contract_id: str, service: str = "signature"
    ) -> list[dict[str, Any]]:
        return await super().events(name, contract_id, service)


@pytest.fixture(scope="module")
async def world(start_services: StartServices) -> AsyncIterator[Parties]:
    ledger = ("ledger",) if REAL_LEDGER else ()
    async with start_services("auth", *ONBOARDING, "contract", "signature", *ledger) as fleet:
        directory = Directory()
        # Payment is not started here: its stand-in says where items stand
        # when an amendment is proposed and put in force.
        fleet.runtime("contract").peers.mount(
            "payment", httpx.ASGITransport(app=directory.payment_app())
        )
        if not REAL_PEERS:
            peers = fleet.runtime("contract").peers
            peers.mount("client", httpx.ASGITransport(app=directory.client_app()))
            peers.mount("contractor", httpx.ASGITransport(app=directory.contractor_app()))
            fleet.runtime("signature").peers.mount(
                "client", httpx.ASGITransport(app=directory.client_app())
            )
        if not REAL_LEDGER:
            fleet.runtime("signature").peers.mount(
                "ledger", httpx.ASGITransport(app=directory.ledger_app())
            )
        # The seal's time-stamp request goes to this service's own local TSA
        # route: in process here, as the peers are (no sockets in tests).
        fleet.deps("signature").sealer.timestamps.use(fleet.client("signature"))
        yield Parties(fleet, directory)


@pytest.fixture
def fleet(world: Parties) -> Running:
    return world.fleet


def _name(account: ClientAccount | ContractorAccount) -> str:
    return account.name if isinstance(account, ContractorAccount) else "Ada Owner"
