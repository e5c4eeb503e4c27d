"""Typed calls to the signature service's peers: the contract service (the
contract, its PDF, the final document, status moves) and the ledger (appends).
The end user's token travels beside the service token (the kit forwards it)."""

from __future__ import annotations

from typing import Any, Literal

from mindlinks_fleet.internal import contract, ledger
from mindlinks_fleet.internal.contract import (
    AmendmentForSigning,
    AmendmentTransitionIn,
    TransitionIn,
)
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

    async def get(self, contract_id: str, amendment: int | None = None) -> ContractView | None:
        """The contract, or its amendment ``amendment`` as what is signed."""
        if amendment is not None:
            signable = await self.peers.call(contract.AMENDMENT, contract_id, str(amendment))
            return None if signable is None else _amendment_view(signable)
        found = await self.peers.call(contract.CONTRACT, contract_id)
        return None if found is None else from_attributes(ContractView, found)

    async def original(self, contract_id: str, amendment: int | None = None) -> bytes:
        try:
            if amendment is not None:
                return await self.peers.call(
                    contract.AMENDMENT_DOCUMENT,
                    contract_id,
                    str(amendment),
                    params={"kind": "original"},
                )
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
        amendment: int | None = None,
        signature_ids: list[str] | None = None,
        ledger_entry_ids: list[int] | None = None,
    ) -> ContractView:
        """Move the contract, or its amendment ``amendment`` (whose move to
        ``fully_signed`` names both signatures and their ledger entries)."""
        move: dict[str, Any] = {
            "to": to,
            "expected_version": expected_version,
            "actor_user_id": actor_user_id,
        }
        if actor_company_id is not None:
            move["actor_company_id"] = actor_company_id
        if reason is not None:
            move["reason"] = reason
        try:
            if amendment is not None:
                body = AmendmentTransitionIn.model_validate(
                    {
                        **move,
                        "signature_ids": signature_ids or [],
                        "ledger_entry_ids": ledger_entry_ids or [],
                    }
                )
                signable = await self.peers.call(
                    contract.AMENDMENT_TRANSITION, contract_id, str(amendment), body=body
                )
                return _amendment_view(signable)
            moved = await self.peers.call(
                contract.TRANSITION, contract_id, body=TransitionIn.model_validate(move)
            )
        except PeerRefused as exc:
            _refused(exc)
            raise
        return from_attributes(ContractView, moved)

    async def store_final(
        self, contract_id: str, document: bytes, amendment: int | None = None
    ) -> tuple[str, int]:
        """``PUT .../documents/final`` with the raw PDF (idempotent, so retried
        like any PUT) → (sha256, contract or amendment version)."""
        try:
            if amendment is not None:
                stored = await self.peers.call(
                    contract.AMENDMENT_FINAL_DOCUMENT, contract_id, str(amendment), body=document
                )
            else:
                stored = await self.peers.call(contract.FINAL_DOCUMENT, contract_id, body=document)
        except PeerRefused as exc:
            _refused(exc)
            raise
        return stored.sha256, stored.version


def _amendment_view(signable: AmendmentForSigning) -> ContractView:
    return ContractView(
        id=signable.contract_id,
        status=signable.status,
        version=signable.version,
        title=signable.title,
        client_company_id=signable.client_company_id,
        client_user_id=signable.client_user_id,
        client_name=signable.client_name,
        contractor_id=signable.contractor_id,
        contractor_user_id=signable.contractor_user_id,
        contractor_name=signable.contractor_name,
        pdf_sha256=signable.pdf_sha256,
        final_pdf_sha256=signable.final_pdf_sha256,
        amendment=signable.number,
    )


def _refused(exc: PeerRefused) -> None:
    """Raise the contract service's refusal of a move in this service's terms."""
    if exc.peer_status == 404:
        raise ContractNotFound() from None
    if exc.peer_status == 409 and exc.peer_code == "contract-expired":
        raise ContractExpired() from None  # the deadline passed since we read it
    if exc.peer_status == 409 and exc.peer_code == "stale-version":
        raise StaleVersion("The contract changed meanwhile; try again") from None
    if exc.peer_status == 409 and exc.peer_code in PASSED_ON:
        return  # the caller raises the peer's own refusal: it says what to do
    if exc.peer_status == 409:
        raise ContractNotSignable() from None


PASSED_ON = frozenset({"amendment-changes-funded-item"})
"""Refusals of a move the signer should read as the contract service wrote them."""


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
