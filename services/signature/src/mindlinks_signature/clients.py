"""Typed calls to the signature service's peers: the contract service (the
contract, its PDF, the final document, status moves) and the ledger (appends).
The end user's token travels beside the service token (the kit forwards it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from mindlinks_kit.dynamo import StaleVersion
from mindlinks_kit.errors import Problem
from mindlinks_kit.http import Peers, refusal
from mindlinks_signature.domain import (
    ContractNotFound,
    ContractNotSignable,
    ContractView,
    DocumentChanged,
    Receipt,
)

LEDGER_APPEND_SECONDS = 12.0
"""The journal has one writer: under a burst of signatures and activations an
append waits its turn for seconds (``make chaos`` saw 3 to 8 s). Waiting beats
timing out at the default 5 s, which re-queued the append and opened the
breaker for every signer; two tries stay inside the edge's 29 s."""


class _Contract(BaseModel):
    """The part of the contract we read (tolerant reader)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    status: str
    version: int
    title: str
    client_company_id: str = Field(alias="clientCompanyId")
    client_user_id: str = Field(alias="clientUserId")
    client_name: str = Field("", alias="clientName")
    contractor_id: str = Field(alias="contractorId")
    contractor_user_id: str = Field(alias="contractorUserId")
    contractor_name: str = Field("", alias="contractorName")
    pdf_sha256: str = Field(alias="pdfSha256")
    final_pdf_sha256: str | None = Field(None, alias="finalPdfSha256")


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sha256: str
    version: int


class _Receipt(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    seq: int
    entry_hash: str = Field(alias="entryHash")
    recorded_at: str = Field(alias="recordedAt")


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _view(response: httpx.Response) -> ContractView:
    found = _Contract.model_validate(response.json())
    return ContractView(**found.model_dump())


class ContractService:
    """``/internal/contracts/...`` of the contract service."""

    def __init__(self, peers: Peers, timeout: float) -> None:
        self.peers = peers
        self.timeout = timeout

    def _unexpected(self, response: httpx.Response) -> Problem:
        return refusal("contract", response)

    async def get(self, contract_id: str) -> ContractView | None:
        response = await self.peers.request("contract", "GET", _path(contract_id))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._unexpected(response)
        return _view(response)

    async def original(self, contract_id: str) -> bytes:
        response = await self.peers.request(
            "contract", "GET", _path(contract_id, "/document"), params={"kind": "original"}
        )
        if response.status_code == 404:
            raise DocumentChanged("The contract's document cannot be found")
        if response.status_code != 200:
            raise self._unexpected(response)
        return response.content

    async def transition(
        self,
        contract_id: str,
        *,
        to: str,
        expected_version: int,
        actor_user_id: str,
        reason: str | None = None,
    ) -> ContractView:
        body: dict[str, Any] = {
            "to": to,
            "expectedVersion": expected_version,
            "actorUserId": actor_user_id,
        }
        if reason is not None:
            body["reason"] = reason
        response = await self.peers.request(
            "contract", "POST", _path(contract_id, "/transitions"), json=body
        )
        if response.status_code == 200:
            return _view(response)
        self._refused(response)
        raise self._unexpected(response)

    async def store_final(self, contract_id: str, document: bytes) -> tuple[str, int]:
        """``PUT .../documents/final`` with the raw PDF → (sha256, contract version)."""
        response = await self._put_pdf(_path(contract_id, "/documents/final"), document)
        if response.status_code == 200:
            stored = _Stored.model_validate(response.json())
            return stored.sha256, stored.version
        self._refused(response)
        raise self._unexpected(response)

    def _refused(self, response: httpx.Response) -> None:
        code = _code(response)
        if response.status_code == 404:
            raise ContractNotFound()
        if response.status_code == 409 and code == "stale-version":
            raise StaleVersion("The contract changed meanwhile; try again")
        if response.status_code == 409:
            raise ContractNotSignable()

    async def _put_pdf(self, path: str, document: bytes) -> httpx.Response:
        """A PUT with the raw PDF: idempotent, so retried like any PUT."""
        return await self.peers.request(
            "contract", "PUT", path, content=document, content_type="application/pdf"
        )


class Ledger:
    """``POST /internal/ledger/entries``: same idempotency key → same entry."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def append(
        self, *, kind: str, subject: str, data: dict[str, Any], idempotency_key: str
    ) -> Receipt:
        response = await self.peers.request(
            "ledger",
            "POST",
            "/internal/ledger/entries",
            json={
                "kind": kind,
                "subject": subject,
                "data": data,
                "idempotencyKey": idempotency_key,
            },
            idempotency_key=idempotency_key,
            timeout=LEDGER_APPEND_SECONDS,
            attempts=2,
        )
        if response.status_code not in (200, 201):
            raise refusal("ledger", response)
        receipt = _Receipt.model_validate(response.json())
        return Receipt(
            seq=receipt.seq, entry_hash=receipt.entry_hash, recorded_at=receipt.recorded_at
        )


def _path(contract_id: str, suffix: str = "") -> str:
    return f"/internal/contracts/{quote(contract_id, safe='')}{suffix}"
