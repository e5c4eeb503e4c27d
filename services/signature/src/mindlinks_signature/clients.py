"""Typed calls to the signature service's peers: the contract service (the
contract, its PDF, the final document, status moves) and the ledger (appends).
The end user's token travels beside the service token (the kit forwards it)."""

from __future__ import annotations

from typing import Any, Literal

from mindlinks_fleet.internal import contract, ledger
from mindlinks_fleet.internal.contract import TransitionIn
from mindlinks_fleet.internal.ledger import AppendIn, InclusionProofOut
from mindlinks_kit.dynamo import StaleVersion
from mindlinks_kit.errors import PeerRefused
from mindlinks_kit.http import Peers
from mindlinks_kit.schemas import from_attributes
from mindlinks_signature.domain import (
    ContractExpired,
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


class ContractService:
    """``/internal/contracts/...`` of the contract service."""

    def __init__(self, peers: Peers, timeout: float) -> None:
        self.peers = peers
        self.timeout = timeout

    async def get(self, contract_id: str) -> ContractView | None:
        found = await self.peers.call(contract.CONTRACT, contract_id)
        return None if found is None else from_attributes(ContractView, found)

    async def original(self, contract_id: str) -> bytes:
        try:
            return await self.peers.call(
                contract.DOCUMENT, contract_id, params={"kind": "original"}
            )
        except PeerRefused as exc:
            if exc.peer_status == 404:
                raise DocumentChanged("The contract's document cannot be found") from None
            raise

    async def transition(
        self,
        contract_id: str,
        *,
        to: Literal["client_signed", "fully_signed", "declined"],
        expected_version: int,
        actor_user_id: str,
        actor_company_id: str | None = None,
        reason: str | None = None,
    ) -> ContractView:
        move: dict[str, Any] = {
            "to": to,
            "expected_version": expected_version,
            "actor_user_id": actor_user_id,
        }
        if actor_company_id is not None:
            move["actor_company_id"] = actor_company_id
        if reason is not None:
            move["reason"] = reason
        body = TransitionIn.model_validate(move)
        try:
            moved = await self.peers.call(contract.TRANSITION, contract_id, body=body)
        except PeerRefused as exc:
            _refused(exc)
            raise
        return from_attributes(ContractView, moved)

    async def store_final(self, contract_id: str, document: bytes) -> tuple[str, int]:
        """``PUT .../documents/final`` with the raw PDF (idempotent, so retried
        like any PUT) → (sha256, contract version)."""
        try:
            stored = await self.peers.call(contract.FINAL_DOCUMENT, contract_id, body=document)
        except PeerRefused as exc:
            _refused(exc)
            raise
        return stored.sha256, stored.version


def _refused(exc: PeerRefused) -> None:
    """Raise the contract service's refusal of a move in this service's terms."""
    if exc.peer_status == 404:
        raise ContractNotFound() from None
    if exc.peer_status == 409 and exc.peer_code == "contract-expired":
        raise ContractExpired() from None  # the deadline passed since we read it
    if exc.peer_status == 409 and exc.peer_code == "stale-version":
        raise StaleVersion("The contract changed meanwhile; try again") from None
    if exc.peer_status == 409:
        raise ContractNotSignable() from None


class Ledger:
    """The ledger's append: same idempotency key → same entry."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def append(
        self, *, kind: str, subject: str, data: dict[str, Any], idempotency_key: str
    ) -> Receipt:
        entry = AppendIn(kind=kind, subject=subject, data=data, idempotency_key=idempotency_key)
        receipt = await self.peers.call(
            ledger.APPEND,
            body=entry,
            idempotency_key=idempotency_key,
            timeout=LEDGER_APPEND_SECONDS,
            attempts=2,
        )
        return from_attributes(Receipt, receipt)

    async def inclusion(self, seq: int) -> InclusionProofOut | None:
        """The entry's inclusion proof in the journal now (hashes only); None
        for an entry the journal does not have."""
        return await self.peers.call(ledger.PROOF, str(seq))
