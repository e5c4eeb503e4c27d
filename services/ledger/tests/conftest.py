"""The ledger's tests run the real apps in-process — auth (JWKS, service tokens)
and the ledger — against the moto server and the real Redis.

Peers: the contract service is being written beside this one. Until it is
installed a stand-in app implements exactly ``GET /internal/contracts/{id}``
from docs/lifecycle.md; once ``installed_services()`` has it, the real app runs
and contracts are seeded into its table. ``signature.completed`` is published
through the signature service's outbox when it is installed, else put on the
bus in the envelope format, exactly as the signature service would.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mindlinks_dev.bootstrap import table_definition
from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.problem import problem
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_fleet import FLEET
from mindlinks_fleet.events import SignatureCompleted
from mindlinks_kit.dynamo import Table, from_wire
from mindlinks_kit.events.envelope import Detail
from mindlinks_ledger.journal import Journal
from mindlinks_ledger.store import JournalStore

INSTALLED = installed_services()
REAL_CONTRACT = "contract" in INSTALLED and not os.environ.get("LEDGER_TESTS_CONTRACT_STUB")
"""Set ``LEDGER_TESTS_CONTRACT_STUB=1`` to run against the stand-in even when installed."""
REAL_SIGNATURE = "signature" in INSTALLED


def contract_stub(contracts: dict[str, dict[str, Any]]) -> FastAPI:
    """The contract service's internal read, as docs/lifecycle.md specifies it."""
    app = FastAPI()

    @app.get("/internal/contracts/{contract_id}")
    async def get_contract(contract_id: str, request: Request) -> Any:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"status": 401, "code": "unauthorized"}, status_code=401)
        contract = contracts.get(contract_id)
        if contract is None:
            return JSONResponse({"status": 404, "code": "not-found"}, status_code=404)
        return contract

    return app


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    names = ["auth", "ledger", *(["contract"] if REAL_CONTRACT else [])]
    names += ["signature"] if REAL_SIGNATURE else []
    async with start_services(*names) as running:
        stub_contracts: dict[str, dict[str, Any]] = {}
        running.apps["ledger"].state.test_contracts = stub_contracts
        if not REAL_CONTRACT:
            running.runtime("ledger").peers.mount(
                "contract", httpx.ASGITransport(app=contract_stub(stub_contracts))
            )
        yield running


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Contract:
    id: str
    client_user_id: str
    contractor_user_id: str
    body: dict[str, Any]
    signature_seqs: list[int] = field(default_factory=list)

    @property
    def pdf_sha256(self) -> str:
        return str(self.body["pdfSha256"])

    @property
    def final_pdf_sha256(self) -> str:
        return str(self.body["finalPdfSha256"])


class Ledger:
    """Drives the ledger the way its peers and users do."""

    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet
        self.client = fleet.client("ledger")
        self.runtime = fleet.runtime("ledger")

    problem = staticmethod(problem)

    def user(self, user_id: str, role: str = "client") -> dict[str, str]:
        return self.fleet.bearer(user_id, role)

    def admin(self) -> dict[str, str]:
        return self.fleet.bearer(uuid.uuid4().hex, "admin")

    def service(self, name: str = "signature") -> dict[str, str]:
        return self.fleet.service_bearer(name)

    async def append(
        self,
        kind: str = "note",
        subject: str | None = None,
        data: dict[str, Any] | None = None,
        key: str | None = None,
        service: str = "signature",
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/internal/ledger/entries",
            json={
                "kind": kind,
                "subject": subject or f"subject-{uuid.uuid4().hex[:8]}",
                "data": data if data is not None else {"n": 1},
                "idempotencyKey": key or uuid.uuid4().hex,
            },
            headers=self.service(service),
        )
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    async def add_contract(
        self, terms: dict[str, Any] | None = None, status: str = "fully_signed", **fields: Any
    ) -> Contract:
        """A contract as the contract service answers it; ``fields`` (camelCase)
        add to or replace its documented ones."""
        contract_id = f"c-{uuid.uuid4().hex[:12]}"
        client, contractor = uuid.uuid4().hex, uuid.uuid4().hex
        body: dict[str, Any] = {
            "id": contract_id,
            "status": status,
            "version": 4,
            "title": "Website redesign",
            "currency": "EUR",
            "terms": terms or {"kind": "fixed", "amountMinor": 150000, "dueDate": "2030-01-31"},
            "pdfSha256": sha(f"original {contract_id}"),
            "finalPdfSha256": sha(f"final {contract_id}"),
            "clientCompanyId": f"co-{uuid.uuid4().hex[:8]}",
            "clientUserId": client,
            "contractorId": f"ct-{uuid.uuid4().hex[:8]}",
            "contractorUserId": contractor,
            "clientName": "Acme Ltd",
            "contractorName": "Ada Lovelace",
            "createdAt": "2030-01-01T00:00:00.000000Z",
            **fields,
        }
        contract = Contract(contract_id, client, contractor, body)
        await self.store_contract(contract)
        return contract

    async def store_contract(self, contract: Contract) -> None:
        # Seeded into the contract service's table (its storage fields beside the
        # documented ones): the real GET /internal/contracts/{id} answers; the
        # stand-in answers the same document.
        terms = contract.body["terms"]
        amounts = [terms.get("amountMinor", 0)] + [
            m.get("amountMinor", 0) for m in terms.get("milestones", [])
        ]
        item = {
            "description": "",
            "startDate": "2030-01-01",
            "totalMinor": sum(a for a in amounts if isinstance(a, int)),
            "pdfKey": f"contracts/{contract.id}/original.pdf",
            "finalPdfKey": f"contracts/{contract.id}/final.pdf",
            "history": [],
            "updatedAt": contract.body["createdAt"],
            **contract.body,
        }
        if not REAL_CONTRACT:
            # The document only (the storage's keys are no part of it).
            unset = ("templateId", "activatedAt", "ledgerEntryId", "completedAt")
            stored = ("pdfKey", "finalPdfKey")
            stand_in = {**dict.fromkeys(unset)}
            stand_in.update((k, v) for k, v in item.items() if k not in stored)
            self.fleet.apps["ledger"].state.test_contracts[contract.id] = stand_in
            return
        await self.fleet.runtime("contract").table("contracts").put(item)

    async def sign(self, contract: Contract) -> list[int]:
        """Both signatures, appended as the signature service appends them."""
        for role, user in (
            ("client", contract.client_user_id),
            ("contractor", contract.contractor_user_id),
        ):
            signature_id = f"sig-{uuid.uuid4().hex[:8]}"
            appended = await self.append(
                "signature",
                contract.id,
                {
                    "contractId": contract.id,
                    "signatureId": signature_id,
                    "signerUserId": user,
                    "signerRole": role,
                    "pdfSha256": contract.pdf_sha256,
                    "signedAt": "2030-01-02T10:00:00.000000Z",
                },
                key=f"signature:{signature_id}",
                service="signature",
            )
            contract.signature_seqs.append(appended["seq"])
        return contract.signature_seqs

    def completed(self, contract: Contract) -> SignatureCompleted:
        body = contract.body
        return SignatureCompleted(
            contract_id=contract.id,
            title=body["title"],
            client_company_id=body["clientCompanyId"],
            client_user_id=body["clientUserId"],
            contractor_id=body["contractorId"],
            contractor_user_id=body["contractorUserId"],
            signature_ids=[f"sig-{seq}" for seq in contract.signature_seqs],
            pdf_sha256=contract.pdf_sha256,
            final_pdf_sha256=contract.final_pdf_sha256,
            ledger_entry_ids=contract.signature_seqs,
        )

    async def publish_completed(self, payload: SignatureCompleted) -> str:
        """``signature.completed`` on the bus; returns the event id."""
        if REAL_SIGNATURE:
            signature = self.fleet.runtime("signature")
            uow = signature.uow()
            detail = signature.publish(uow, "signature.completed", payload)
            await uow.commit()
            return detail.id
        detail = Detail(data=payload.model_dump(mode="json", by_alias=True))
        await self.put_on_bus(detail)
        return detail.id

    async def put_on_bus(self, detail: Detail, name: str = "signature.completed") -> None:
        """``detail`` as ``name``'s producer publishes it (its source)."""
        await self.runtime.aws.events.put_events(
            Entries=[
                {
                    "EventBusName": self.runtime.settings.physical(FLEET.bus),
                    "Source": f"mindlinks.{FLEET.event(name).producer}",
                    "DetailType": name,
                    "Detail": detail.model_dump_json(by_alias=True),
                }
            ]
        )

    async def redeliver(self, payload: SignatureCompleted, event_id: str) -> int:
        """The same event once more (a relay that crashed after publishing)."""
        detail = Detail(id=event_id, data=payload.model_dump(mode="json", by_alias=True))
        await self.put_on_bus(detail)
        return await self.fleet.deliver()

    async def activate(
        self, terms: dict[str, Any] | None = None, **fields: Any
    ) -> tuple[Contract, SignatureCompleted, str]:
        contract = await self.add_contract(terms, **fields)
        await self.sign(contract)
        payload = self.completed(contract)
        event_id = await self.publish_completed(payload)
        await self.fleet.deliver()
        return contract, payload, event_id

    async def history(self, contract_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/internal/ledger/subjects/{contract_id}", headers=self.service("admin")
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def published(self, name: str, contract_id: str) -> list[dict[str, Any]]:
        """Payloads of ``name`` events in the ledger's outbox for a contract."""
        outbox = self.runtime.table("outbox")
        found: list[dict[str, Any]] = []
        paginator = self.runtime.aws.dynamodb.get_paginator("scan")
        async for page in paginator.paginate(TableName=outbox.name):
            for raw in page.get("Items", []):
                item = from_wire(raw)
                data = json.loads(item["detail"])["data"]
                if item["detailType"] == name and data.get("contractId") == contract_id:
                    found.append(data)
        return found

    async def fresh_journal(self, **options: Any) -> Journal:
        """A journal over tables of its own (same definitions as the fleet's),
        for tests that need to know every entry in it."""
        suffix = uuid.uuid4().hex[:8]
        client = self.runtime.aws.dynamodb
        names = {}
        for table in FLEET.tables("ledger"):
            if table.name in ("journal", "heads"):
                name = self.runtime.settings.physical(f"ledger-{table.name}-{suffix}")
                await client.create_table(**table_definition(name, table))
                names[table.name] = name
        store = JournalStore(Table(client, names["journal"]), Table(client, names["heads"]))
        return Journal(store, **options)


@pytest.fixture(scope="module")
def ledger(fleet: Running) -> Ledger:
    return Ledger(fleet)
