"""What the signature service's routes depend on, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_signature.clients import ContractService, Ledger
from mindlinks_signature.local_tsa import LocalTimestampAuthority
from mindlinks_signature.seal import SealCertificates, Sealer, TimestampClient
from mindlinks_signature.service import Signatures
from mindlinks_signature.settings import SEAL_CERTIFICATES_SECRET, Settings
from mindlinks_signature.store import SignatureStore
from mindlinks_signature.verification import Verifications, VerifyThrottle

LOCAL_TSA_PATH = "/v1/signatures/dev/timestamps"


@dataclass
class SignatureDeps:
    runtime: Runtime
    settings: Settings
    signatures: Signatures
    sealer: Sealer
    verifications: Verifications
    throttle: VerifyThrottle
    local_tsa: LocalTimestampAuthority | None


async def setup(runtime: Runtime) -> SignatureDeps:
    settings = runtime.settings_as(Settings)
    assert runtime.redis is not None  # the fleet declares redis=True for signature
    store = SignatureStore(runtime.table("signatures"))
    ledger = Ledger(runtime.peers)
    certificates = SealCertificates.parse(await runtime.aws.secret(SEAL_CERTIFICATES_SECRET))
    timestamp_url = settings.seal_timestamp_url or runtime.peers.url("signature") + LOCAL_TSA_PATH
    sealer = Sealer(
        kms=runtime.aws.kms,
        key_id=settings.seal_key,
        certificates=certificates,
        timestamps=TimestampClient(
            runtime.http, timestamp_url, settings.seal_timestamp_timeout_seconds
        ),
    )
    runtime.close_at_shutdown(sealer.close)
    signatures = Signatures(
        store=store,
        contracts=ContractService(runtime.peers, settings.document_timeout_seconds),
        ledger=ledger,
        publish=runtime.publish,
        verifier=runtime.verifier,
        seal=sealer.seal,
    )
    return SignatureDeps(
        runtime=runtime,
        settings=settings,
        signatures=signatures,
        sealer=sealer,
        verifications=Verifications(
            store=store, ledger=ledger, trust_roots=certificates.trust_roots
        ),
        throttle=VerifyThrottle(
            runtime.redis,
            runtime.redis_key("verify", ""),
            settings.verify_per_address,
            settings.verify_window_seconds,
        ),
        local_tsa=LocalTimestampAuthority(certificates) if settings.local_mode else None,
    )


Deps = Annotated[SignatureDeps, Depends(service_deps)]
