"""The signature service object: sign, decline, list.

Signing is a saga across three services, ordered so that a crash at any point
is safe to retry with the same request (see the README):

1. checks (status, order, the PDF's SHA-256) — no effects;
2. claim the signature ``pending`` under its predictable id (conditional put),
   keeping signer, time, IP, user agent and document hash — a retry reuses
   them, so every later step sees the same data;
3. append to the ledger with the signature id as idempotency key (same key →
   same entry);
4. contractor only: append the certificate (deterministic bytes), seal the
   result (PAdES with the platform's KMS key and an RFC 3161 time-stamp: new
   bytes on every attempt) and store the final document — replaceable until
   the contract is fully signed, so an attempt that stops before the move
   leaves a seal nobody was given, which the next attempt replaces; once the
   contract is fully signed, a retry reuses the stored document's hash and
   seals nothing;
5. move the contract with optimistic locking (the contract service treats the
   same move by the same actor as done);
6. mark the signature ``recorded`` and add its event — one transaction, which
   the caller commits.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from mindlinks_fleet.events import (
    AmendmentDeclined,
    AmendmentSignatureRecorded,
    SignatureCompleted,
    SignatureDeclined,
    SignatureRecorded,
)
from mindlinks_fleet.step_up import STEP_UP_AUDIENCE
from mindlinks_kit.auth import TokenVerifier
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import Item, UnitOfWork
from mindlinks_kit.errors import Problem, Unauthorized
from mindlinks_kit.runtime import Publish
from mindlinks_signature.certificate import Certificate, Signer, append_certificate
from mindlinks_signature.clients import ContractService, Ledger
from mindlinks_signature.domain import (
    Caller,
    ClientMustSignFirst,
    ContractNotFound,
    ContractView,
    Decline,
    DocumentChanged,
    Role,
    Signature,
    Signed,
    SigningStepUpRequired,
    StepUp,
    check_declinable,
    check_signable,
    decline_id,
    party_role,
    signature_id,
    signing_purpose,
    step_up_of,
)
from mindlinks_signature.store import SignatureStore


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _signer(signature: Signature) -> Signer:
    assert signature.receipt is not None
    return Signer(
        role=signature.role,
        signature_name=signature.signature_name,
        user_id=signature.signer_user_id,
        signed_at=signature.signed_at,
        ip_address=signature.ip_address,
        user_agent=signature.user_agent,
        ledger_seq=signature.receipt.seq,
        ledger_entry_hash=signature.receipt.entry_hash,
        party_name=signature.party_name,
        company_role=signature.company_role,
        step_up_method=signature.step_up.method if signature.step_up else None,
        step_up_verified_at=signature.step_up.verified_at if signature.step_up else None,
    )


class Signatures:
    def __init__(
        self,
        *,
        store: SignatureStore,
        contracts: ContractService,
        ledger: Ledger,
        publish: Publish,
        verifier: TokenVerifier,
        seal: Callable[[bytes], Awaitable[bytes]],
    ) -> None:
        self.verifier = verifier
        self.store = store
        self.contracts = contracts
        self.ledger = ledger
        self.publish = publish
        self.seal = seal
        """Seals a final document (``seal.Sealer.seal``)."""

    async def _contract(self, contract_id: str, amendment: int | None = None) -> ContractView:
        contract = await self.contracts.get(contract_id, amendment)
        if contract is None:
            raise ContractNotFound()
        return contract

    async def step_up(
        self, token: str | None, caller: Caller, contract_id: str, amendment: int | None = None
    ) -> StepUp:
        """The caller's proof of a fresh one-time code for signing this
        contract (or this amendment of it): a step-up token from auth (its
        keys, its issuer, the step-up audience, unexpired, its session not ended)."""
        wanted = signing_purpose(contract_id, amendment)
        if token is None:
            raise SigningStepUpRequired(wanted, "no stepUpToken was sent")
        try:
            claims = await self.verifier.claims(token, STEP_UP_AUDIENCE)
        except Unauthorized as exc:
            reason = exc.extensions.get("reason")
            raise SigningStepUpRequired(
                wanted, f"the token is {reason}" if reason else "the token is not valid"
            ) from None
        return step_up_of(claims, caller.user_id, wanted)

    async def sign(
        self,
        contract_id: str,
        caller: Caller,
        signature_name: str,
        step_up: StepUp,
        uow: UnitOfWork,
        amendment: int | None = None,
    ) -> Signed:
        """Sign the contract, or its amendment ``amendment`` (the same saga over
        the amendment's status, documents and moves)."""
        contract = await self._contract(contract_id, amendment)
        role = party_role(contract, caller)
        mine: Signature | None = None
        try:
            check_signable(contract.status, role, None)
        except Problem:
            # Refused by the status alone, unless an attempt of ours moved it and
            # stopped: only then is our record worth a read. Otherwise the claim
            # below finds it (one write instead of a read and a write).
            mine = await self.store.signature(signature_id(contract.id, role, amendment))
            if mine is None:
                raise
            check_signable(contract.status, role, mine)

        original = await self.contracts.original(contract.id, amendment)
        sha256 = await asyncio.to_thread(_sha256, original)
        if sha256 != contract.pdf_sha256:
            raise DocumentChanged()
        if mine is None:
            mine = await self.store.claim(
                Signature(
                    id=signature_id(contract.id, role, amendment),
                    contract_id=contract.id,
                    role=role,
                    signer_user_id=caller.user_id,
                    signature_name=signature_name,
                    party_name=contract.party_name(role),
                    signed_at=now_iso(),
                    ip_address=caller.ip_address,
                    user_agent=caller.user_agent,
                    pdf_sha256=sha256,
                    company_id=caller.company_id if role == "client" else None,
                    company_role=caller.company_role if role == "client" else None,
                    step_up=step_up,
                    amendment=amendment,
                )
            )
            check_signable(contract.status, role, mine)  # a twin may have finished first
        if mine.pdf_sha256 != sha256:
            raise DocumentChanged()

        receipt = await self.ledger.append(
            kind="signature",
            subject=contract.id,
            data=mine.ledger_data(),
            idempotency_key=mine.id,
        )
        if role == "client":
            return await self._client_signed(contract, mine.recorded(receipt), uow)
        return await self._completed(contract, original, mine.recorded(receipt), uow)

    async def _client_signed(
        self, contract: ContractView, signature: Signature, uow: UnitOfWork
    ) -> Signed:
        assert signature.receipt is not None
        moved = await self.contracts.transition(
            contract.id,
            to="client_signed",
            expected_version=contract.version,
            actor_user_id=signature.signer_user_id,
            actor_company_id=signature.company_id or None,
            amendment=contract.amendment,
        )
        self.store.record(uow, signature)
        recorded = SignatureRecorded(
            **contract.parties(),
            signature_id=signature.id,
            signer_user_id=signature.signer_user_id,
            signer_role="client",
            pdf_sha256=signature.pdf_sha256,
            ledger_entry_id=signature.receipt.seq,
        )
        if contract.amendment is None:
            self.publish(uow, "signature.client-signed", recorded)
        else:
            self.publish(
                uow,
                "signature.amendment-client-signed",
                AmendmentSignatureRecorded(**recorded.model_dump(), amendment=contract.amendment),
            )
        return Signed(signature, moved.status)

    async def _completed(
        self, contract: ContractView, original: bytes, signature: Signature, uow: UnitOfWork
    ) -> Signed:
        client = await self.store.signature(signature_id(contract.id, "client", contract.amendment))
        if client is None or client.state != "recorded" or client.receipt is None:
            raise ClientMustSignFirst()
        assert signature.receipt is not None
        if contract.status == "fully_signed" and contract.final_pdf_sha256 is not None:
            final_sha256, status = contract.final_pdf_sha256, contract.status  # finishing a retry
        else:
            final = await asyncio.to_thread(
                append_certificate,
                original,
                Certificate(
                    contract_id=contract.id,
                    title=contract.title_signed,
                    client_name=contract.client_name,
                    contractor_name=contract.contractor_name,
                    original_sha256=contract.pdf_sha256,
                    signers=[_signer(client), _signer(signature)],
                ),
            )
            final = await self.seal(final)
            final_sha256, version = await self.contracts.store_final(
                contract.id, final, contract.amendment
            )
            moved = await self.contracts.transition(
                contract.id,
                to="fully_signed",
                expected_version=version,
                actor_user_id=signature.signer_user_id,
                amendment=contract.amendment,
                signature_ids=[client.id, signature.id],
                ledger_entry_ids=[client.receipt.seq, signature.receipt.seq],
            )
            status = moved.status
        receipt = signature.receipt
        signature = signature.recorded(receipt, final_pdf_sha256=final_sha256)
        self.store.record(uow, signature)
        if contract.amendment is not None:
            # In force now: the contract service published contract.amended
            # with the move (the activation's signature.completed is not this).
            return Signed(signature, status)
        self.publish(
            uow,
            "signature.completed",
            SignatureCompleted(
                **contract.parties(),
                signature_ids=[client.id, signature.id],
                pdf_sha256=contract.pdf_sha256,
                final_pdf_sha256=final_sha256,
                ledger_entry_ids=[client.receipt.seq, receipt.seq],
            ),
        )
        return Signed(signature, status)

    async def decline(
        self,
        contract_id: str,
        caller: Caller,
        reason: str,
        uow: UnitOfWork,
        amendment: int | None = None,
    ) -> Decline:
        """Either party, while the contract (or its amendment ``amendment``)
        awaits signatures: → ``declined``."""
        contract = await self._contract(contract_id, amendment)
        role: Role = party_role(contract, caller)
        mine = await self.store.decline(decline_id(contract.id, role, amendment))
        check_declinable(contract.status, mine)
        if mine is None:
            mine = await self.store.claim_decline(
                Decline(
                    id=decline_id(contract.id, role, amendment),
                    contract_id=contract.id,
                    role=role,
                    user_id=caller.user_id,
                    reason=reason,
                    declined_at=now_iso(),
                    amendment=amendment,
                )
            )
            check_declinable(contract.status, mine)
        await self.contracts.transition(
            contract.id,
            to="declined",
            expected_version=contract.version,
            actor_user_id=mine.user_id,
            actor_company_id=caller.company_id if role == "client" else None,
            reason=mine.reason,
            amendment=amendment,
        )
        self.store.record_decline(uow, mine)
        declined = SignatureDeclined(
            **contract.parties(),
            declined_by_user_id=caller.user_id,
            declined_by_role=role,
            reason=mine.reason,
        )
        if amendment is None:
            self.publish(uow, "signature.declined", declined)
        else:
            self.publish(
                uow,
                "signature.amendment-declined",
                AmendmentDeclined(**declined.model_dump(), amendment=amendment),
            )
        return mine

    async def page(
        self, contract_id: str, limit: int, start: Item | None
    ) -> tuple[list[Signature], Item | None]:
        """A contract's signatures in signing order, unfinished (``pending``) ones
        included: what operators see (the admin service)."""
        return await self.store.page_for_contract(contract_id, limit, start)

    async def listed(self, contract_id: str, caller: Caller) -> list[Signature]:
        """A contract's recorded signatures, for its parties and admins."""
        contract = await self._contract(contract_id)
        if caller.role != "admin":
            party_role(contract, caller)
        return [s for s in await self.store.for_contract(contract.id) if s.state == "recorded"]
