"""What the signature service's routes depend on, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_signature.clients import ContractService, Ledger
from mindlinks_signature.service import Signatures
from mindlinks_signature.settings import Settings
from mindlinks_signature.store import SignatureStore


@dataclass
class SignatureDeps:
    runtime: Runtime
    signatures: Signatures


async def setup(runtime: Runtime) -> SignatureDeps:
    settings = runtime.settings_as(Settings)
    signatures = Signatures(
        store=SignatureStore(runtime.table("signatures")),
        contracts=ContractService(runtime.peers, settings.document_timeout_seconds),
        ledger=Ledger(runtime.peers),
        publish=runtime.publish,
        verifier=runtime.verifier,
    )
    return SignatureDeps(runtime=runtime, signatures=signatures)


Deps = Annotated[SignatureDeps, Depends(service_deps)]
