"""What the kyc service's routes depend on, built once per process: the rules,
the contractor directory and the identity providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_kyc.clients import ContractorDirectory
from mindlinks_kyc.domain import Policy
from mindlinks_kyc.providers import KycProvider
from mindlinks_kyc.providers.local import WEBHOOK_PATH, LocalKycProvider
from mindlinks_kyc.providers.onfido import OnfidoProvider
from mindlinks_kyc.providers.veriff import VeriffProvider
from mindlinks_kyc.service import Kyc
from mindlinks_kyc.settings import Settings
from mindlinks_kyc.store import DocumentBucket, KycStore


@dataclass
class Providers:
    opening: KycProvider
    """Opens new sessions."""
    webhooks: dict[str, KycProvider] = field(default_factory=dict)
    """Webhook route name (``veriff``, ``onfido``) → the provider verifying it."""
    local: LocalKycProvider | None = None


@dataclass
class KycDeps:
    runtime: Runtime
    settings: Settings
    kyc: Kyc
    contractors: ContractorDirectory
    providers: Providers


def providers_for(settings: Settings, runtime: Runtime) -> Providers:
    """Real adapters where keys are configured; the local provider (local mode
    only) stands in for Veriff when Veriff has no keys."""
    webhooks: dict[str, KycProvider] = {}
    if settings.veriff_api_key is not None and settings.veriff_shared_secret is not None:
        webhooks["veriff"] = VeriffProvider(
            client=runtime.http,
            api_key=settings.veriff_api_key.get_secret_value(),
            shared_secret=settings.veriff_shared_secret.get_secret_value(),
            callback_url=settings.completed_url,
            base_url=settings.veriff_base_url,
            timeout=settings.provider_timeout_seconds,
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_seconds,
        )
    if settings.onfido_api_token is not None and settings.onfido_webhook_token is not None:
        webhooks["onfido"] = OnfidoProvider(
            client=runtime.http,
            api_token=settings.onfido_api_token.get_secret_value(),
            webhook_token=settings.onfido_webhook_token.get_secret_value(),
            workflow_id=settings.onfido_workflow_id or "",
            completed_url=settings.completed_url,
            base_url=settings.onfido_base_url,
            timeout=settings.provider_timeout_seconds,
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_seconds,
        )
    local = None
    if settings.local_mode and "veriff" not in webhooks:
        port = runtime.service.port + settings.port_offset
        local = LocalKycProvider(
            secret=settings.local_webhook_secret.get_secret_value(),
            public_base_url=settings.public_base_url,
            client=runtime.http,
            webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            timeout=settings.provider_timeout_seconds,
        )
        webhooks["veriff"] = local
    opening = webhooks.get(settings.kyc_provider) or local
    if opening is None:
        raise RuntimeError(f"no {settings.kyc_provider} credentials outside local mode")
    return Providers(opening=opening, webhooks=webhooks, local=local)


async def setup(runtime: Runtime) -> KycDeps:
    settings = runtime.settings_as(Settings)
    store = KycStore(runtime.table("sessions"), runtime.table("documents"))
    bucket = DocumentBucket(runtime.aws.s3, settings.physical("kyc-documents"))
    policy = Policy(
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
        decision_max_age=timedelta(seconds=settings.webhook_max_age_seconds),
        decision_max_skew=timedelta(seconds=settings.webhook_clock_skew_seconds),
        upload_expiry=timedelta(seconds=settings.upload_expiry_seconds),
        max_document_bytes=settings.max_document_bytes,
        max_documents=settings.max_documents_per_session,
    )
    return KycDeps(
        runtime=runtime,
        settings=settings,
        kyc=Kyc(store, bucket, runtime.publish, policy),
        contractors=ContractorDirectory(runtime.peers),
        providers=providers_for(settings, runtime),
    )


Deps = Annotated[KycDeps, Depends(service_deps)]
