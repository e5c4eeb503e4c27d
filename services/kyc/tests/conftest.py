"""The kyc service's tests run the real apps in-process — auth (JWKS, service
tokens) and kyc — against the moto server and real Redis.

The contractor peer is the real contractor service when it is installed (then
contractors are onboarded the production way: a client registers a company and
invites them, they accept); until then a stand-in app answers exactly the
internal routes of docs/lifecycle.md from an in-memory directory.

The local provider delivers its signed decisions to the kyc app itself over
ASGI, so the real webhook route and signature check run.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from mindlinks_dev import parties
from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import ENTRY_POINT_GROUP, Running, installed_services, run_services
from mindlinks_dev.parties import ContractorAccount
from mindlinks_dev.stand_ins import Directory
from mindlinks_kit.dynamo import from_wire
from mindlinks_kit.errors import Unauthorized
from mindlinks_kit.runtime import Runtime
from mindlinks_kyc.deps import KycDeps
from mindlinks_kyc.providers.local import LocalKycProvider

REAL_CONTRACTOR = os.environ.get("KYC_TESTS_CONTRACTOR") != "stand-in" and "contractor" in {
    ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)
}
"""The installed contractor service (``installed_services()``, by name), unless
``KYC_TESTS_CONTRACTOR=stand-in`` asks for the stand-in."""
ONBOARDING_PEERS = ("user", "notification", "client", "contractor")


def contractor_stand_in(kyc: Runtime, by_user: dict[str, dict[str, Any]]) -> FastAPI:
    """``GET /internal/contractors/by-user/{userId}`` and ``/{id}`` (docs/lifecycle.md),
    behind a real service-token check, answering from ``by_user``."""
    app = FastAPI()

    async def caller(authorization: str) -> JSONResponse | None:
        try:
            await kyc.verifier.service(authorization.removeprefix("Bearer "))
        except Unauthorized:
            return JSONResponse({"code": "unauthorized"}, status_code=401)
        return None

    @app.get("/internal/contractors/by-user/{user_id}")
    async def contractor_by_user(user_id: str, authorization: str = Header("")) -> Any:
        if refused := await caller(authorization):
            return refused
        found = by_user.get(user_id)
        return found or JSONResponse({"code": "not-found"}, status_code=404)

    @app.get("/internal/contractors/{contractor_id}")
    async def contractor(contractor_id: str, authorization: str = Header("")) -> Any:
        if refused := await caller(authorization):
            return refused
        found = [c for c in by_user.values() if c["id"] == contractor_id]
        return found[0] if found else JSONResponse({"code": "not-found"}, status_code=404)

    return app


class Contractors:
    def __init__(self, fleet: Running, directory: dict[str, dict[str, Any]] | None) -> None:
        self.fleet = fleet
        self.directory = directory

    @property
    def real(self) -> bool:
        """The real contractor service answers (and consumes kyc's events)."""
        return self.directory is None

    async def create(self, name: str = "Grace Hopper") -> ContractorAccount:
        if self.directory is None:
            return await self._onboard(name)
        user_id = uuid.uuid4().hex
        contractor_id = uuid.uuid4().hex
        email = f"{user_id}@example.com"
        self.directory[user_id] = {
            "id": contractor_id,
            "userId": user_id,
            "name": name,
            "email": email,
            "kycStatus": "not_started",
            "companyIds": [uuid.uuid4().hex],
        }
        return ContractorAccount(
            user_id, contractor_id, name, email, self.fleet.bearer(user_id, "contractor")
        )

    async def profile(self, account: ContractorAccount) -> dict[str, Any]:
        """The contractor service's view (the stand-in's, until it is installed)."""
        if self.directory is not None:
            return self.directory[account.user_id]
        response = await self.fleet.client("contractor").get(
            f"/internal/contractors/by-user/{account.user_id}",
            headers=self.fleet.service_bearer("kyc"),
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def _onboard(self, name: str) -> ContractorAccount:
        """Steps 1-3 of docs/lifecycle.md through public routes (mindlinks_dev.parties)."""
        world = parties.Parties(self.fleet, Directory())
        client = await world.client()
        return await world.contractor(client, kyc="not_started", name=name)


StartKyc = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture(scope="session")
def start_kyc(fleet_resources: Bootstrapped) -> StartKyc:
    """``async with start_kyc(directory, kyc=factory) as fleet``: auth, the
    contractor peer (real, with its onboarding peers, or the stand-in answering
    from ``directory``) and kyc — built by ``factory`` when given."""

    @contextlib.asynccontextmanager
    async def start(
        directory: dict[str, dict[str, Any]] | None, kyc: Callable[[], FastAPI] | None = None
    ) -> AsyncIterator[Running]:
        installed = installed_services()
        names = ("auth", *(ONBOARDING_PEERS if directory is None else ()), "kyc")
        factories = {name: installed[name] for name in names}
        if kyc is not None:
            factories["kyc"] = kyc
        async with run_services(factories) as running:
            runtime = running.runtime("kyc")
            if directory is not None:
                stand_in = contractor_stand_in(runtime, directory)
                runtime.peers.mount("contractor", httpx.ASGITransport(app=stand_in))
            local = running.deps("kyc").providers.local
            if local is not None:
                local.deliver_through(running.client("kyc"))
            yield running

    return start


@pytest.fixture(scope="module")
def directory() -> dict[str, dict[str, Any]] | None:
    """The stand-in's contractors by user id (``None`` when the real service runs)."""
    return None if REAL_CONTRACTOR else {}


@pytest.fixture(scope="module")
async def fleet(
    start_kyc: StartKyc, directory: dict[str, dict[str, Any]] | None
) -> AsyncIterator[Running]:
    async with start_kyc(directory) as running:
        assert isinstance(running.deps("kyc").providers.local, LocalKycProvider)
        yield running


@pytest.fixture
def contractors(fleet: Running, directory: dict[str, dict[str, Any]] | None) -> Contractors:
    return Contractors(fleet, directory)


@pytest.fixture
def events(fleet: Running) -> Events:
    return Events(fleet)


@pytest.fixture
def kyc(fleet: Running) -> KycDeps:
    deps: KycDeps = fleet.deps("kyc")
    return deps


class Events:
    """What the kyc service published, and how far it travelled."""

    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet

    async def published(self, name: str, session_id: str) -> list[dict[str, Any]]:
        """The envelopes of ``name`` events in kyc's outbox for ``session_id``
        (``sent``: the relay handed it to EventBridge)."""
        runtime = self.fleet.runtime("kyc")
        found: list[dict[str, Any]] = []
        paginator = runtime.aws.dynamodb.get_paginator("scan")
        async for page in paginator.paginate(TableName=runtime.table("outbox").name):
            for raw in page.get("Items", []):
                item = from_wire(raw)
                detail = json.loads(item["detail"])
                if item["detailType"] == name and detail["data"].get("sessionId") == session_id:
                    found.append({**detail, "sent": "sentAt" in item})
        return found

    async def queued_for_contractor(self, session_id: str) -> list[dict[str, Any]]:
        """Envelopes for ``session_id`` that reached the contractor service's SQS
        queue through the EventBridge rule (taken off the queue). Only meaningful
        while the contractor service is not running to consume them."""
        runtime = self.fleet.runtime("kyc")
        sqs = runtime.aws.sqs
        url = (await sqs.get_queue_url(QueueName=runtime.settings.physical("contractor")))[
            "QueueUrl"
        ]
        found: list[dict[str, Any]] = []
        others: list[str] = []
        while True:
            received = await sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
            )
            messages = received.get("Messages", [])
            if not messages:
                break
            for message in messages:
                envelope = json.loads(message["Body"])
                if envelope["detail"]["data"].get("sessionId") == session_id:
                    found.append(envelope)
                    await sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    others.append(message["ReceiptHandle"])
        for receipt in others:  # not ours: back on the queue
            await sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        return found
