"""Verification by upload, for anyone holding a sealed final document.

The PDF is looked up by the SHA-256 of its exact bytes (the ``by-final-hash``
index on the completing signature): a match means the bytes are the ones we
sealed and stored; then pyhanko checks the seal and its time-stamp, and the
ledger gives each signature's inclusion proof.

What is revealed is only what the holder already has: the certificate page
prints the contract id, each signer's typed name, party, role, time and
ledger entry (number and hash); the proof is hashes over entry hashes. An
unknown or altered PDF gets ``ours: false`` and nothing else, not even
whether it carries a seal of ours (the answer never depends on anything but
the upload's own hash).

Per-address throttle in Redis (every task shares it): a fixed window of
``verify_per_address`` uploads per ``verify_window_seconds``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from mindlinks_fleet.internal.ledger import InclusionProofOut
from mindlinks_kit.errors import TooManyRequests
from mindlinks_signature.clients import Ledger
from mindlinks_signature.domain import Signature
from mindlinks_signature.seal_check import SealCheck, check_seal
from mindlinks_signature.store import SignatureStore


class TooManyVerifications(TooManyRequests):
    code = "too-many-verifications"
    title = "Too many verification uploads from this address; wait before trying again"


@dataclass(frozen=True)
class VerifiedSigner:
    signature: Signature
    proof: InclusionProofOut | None


@dataclass(frozen=True)
class Verdict:
    sha256: str
    ours: bool
    contract_id: str | None = None
    amendment: int | None = None
    seal: SealCheck | None = None
    signers: tuple[VerifiedSigner, ...] = ()

    @property
    def intact(self) -> bool:
        """Byte for byte what we sealed, and the seal and time-stamp check out."""
        return self.ours and self.seal is not None and self.seal.ok


class VerifyThrottle:
    def __init__(self, redis: Redis, prefix: str, limit: int, window_seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.limit = limit
        self.window = window_seconds

    async def take(self, address: str) -> None:
        """Count one upload from ``address``, or refuse it with the wait."""
        now = time.time()
        window = int(now // self.window)
        key = f"{self.prefix}{address}:{window}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window + 1)
            count, _ = await pipe.execute()
        if int(count) > self.limit:
            wait = max(1, math.ceil((window + 1) * self.window - now))
            raise TooManyVerifications(f"Try again in {wait} seconds", retry_after=wait)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Verifications:
    def __init__(
        self, *, store: SignatureStore, ledger: Ledger, trust_roots: tuple[str, ...]
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.trust_roots = trust_roots

    async def verify(self, pdf: bytes) -> Verdict:
        sha256 = await asyncio.to_thread(_sha256, pdf)
        completing = await self.store.completing(sha256)
        if completing is None:
            return Verdict(sha256=sha256, ours=False)
        recorded = [
            s
            for s in await self.store.for_contract(completing.contract_id)
            if s.state == "recorded"
            and s.receipt is not None
            and s.amendment == completing.amendment  # this document's signers only
        ]
        seal, proofs = await asyncio.gather(
            check_seal(pdf, self.trust_roots),
            asyncio.gather(*(self.ledger.inclusion(s.receipt.seq) for s in recorded if s.receipt)),
        )
        return Verdict(
            sha256=sha256,
            ours=True,
            contract_id=completing.contract_id,
            amendment=completing.amendment,
            seal=seal,
            signers=tuple(VerifiedSigner(s, p) for s, p in zip(recorded, proofs, strict=True)),
        )
