"""What the payment service's routes and handlers depend on, built once per
process: the store, the provider chosen by configuration, the peers' clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_fleet.internal import contractor
from mindlinks_fleet.internal.contractor import ContractorRecord
from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_payment.clients import ContractDirectory, RegisteredParties
from mindlinks_payment.invoice_store import InvoiceFiles, InvoiceStore
from mindlinks_payment.listings import Listings
from mindlinks_payment.providers import PaymentsProvider
from mindlinks_payment.providers.local import WEBHOOK_PATH, LocalStripe
from mindlinks_payment.service.amendments import Amendments
from mindlinks_payment.service.escrow import EscrowSteps, Policy
from mindlinks_payment.service.escrow_effects import EscrowEffects
from mindlinks_payment.service.invoicing import Invoicing
from mindlinks_payment.service.oversight import Oversight
from mindlinks_payment.service.payments import Payments
from mindlinks_payment.service.payouts import Payouts
from mindlinks_payment.service.settlement import Settlements
from mindlinks_payment.service.webhooks import StripeEvents
from mindlinks_payment.settings import Settings
from mindlinks_payment.store import LocalObjects, PaymentStore, SubmissionBucket


@dataclass
class PaymentDeps:
    runtime: Runtime
    settings: Settings
    store: PaymentStore
    payments: Payments
    payouts: Payouts
    webhooks: StripeEvents
    oversight: Oversight
    escrow: EscrowSteps
    effects: EscrowEffects
    amendments: Amendments
    invoicing: Invoicing
    local_stripe: LocalStripe | None
    """The local Stripe (local mode without a key), for the dev routes."""


def provider_for(settings: Settings, runtime: Runtime) -> PaymentsProvider:
    if settings.stripe_api_key is not None:
        # Stripe's SDK is imported only by a process that talks to Stripe.
        from mindlinks_payment.providers.stripe_api import StripeProvider

        return StripeProvider.connect(
            api_key=settings.stripe_api_key.get_secret_value(),
            http=runtime.http,
            timeout=settings.stripe_timeout_seconds,
            max_network_retries=settings.stripe_max_network_retries,
        )
    if not settings.local_mode:
        raise RuntimeError("no payment provider outside local mode: set MINDLINKS_STRIPE_API_KEY")
    port = runtime.service.port + settings.port_offset
    return LocalStripe(
        LocalObjects(runtime.table("idempotency")),
        webhook_secret=settings.webhook_secret,
        webhook_url=settings.local_webhook_url or f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        public_base_url=settings.public_base_url,
        http=runtime.http,
    )


async def setup(runtime: Runtime) -> PaymentDeps:
    settings = runtime.settings_as(Settings)
    store = PaymentStore(
        runtime.table("escrow"),
        runtime.table("transactions"),
        runtime.table("accounts"),
        runtime.table("idempotency"),
        history=runtime.table("escrow-history"),
    )
    provider = provider_for(settings, runtime)
    base = settings.public_base_url.rstrip("/")
    prefix = settings.resource_prefix

    def stripe_key(kind: str, object_id: str) -> str:
        return f"{prefix}{kind}-{object_id}"

    async def contractor_of(user_id: str) -> ContractorRecord | None:
        return await runtime.peers.call(contractor.CONTRACTOR_BY_USER, user_id)

    payouts = Payouts(
        store=store,
        provider=provider,
        contractor_of=contractor_of,
        stripe_key=stripe_key,
        refresh_url=base + settings.payout_onboarding_refresh_path,
        return_url=base + settings.payout_onboarding_return_path,
    )
    payments = Payments(
        store=store,
        provider=provider,
        contracts=ContractDirectory(runtime.peers),
        publish=runtime.publish,
        cursors=runtime.cursors,
        stripe_key=stripe_key,
    )
    timers = runtime.timers
    assert timers is not None  # the fleet declares payment's timers
    settlements = Settlements(
        store=store,
        provider=provider,
        destinations=payouts,
        timers=timers,
        publish=runtime.publish,
        stripe_key=stripe_key,
        new_uow=runtime.uow,
        transfer_window_days=settings.transfer_window_days,
    )
    effects = EscrowEffects(
        store=store,
        settlements=settlements,
        timers=timers,
        publish=runtime.publish,
        new_uow=runtime.uow,
    )
    return PaymentDeps(
        runtime=runtime,
        settings=settings,
        store=store,
        payments=payments,
        payouts=payouts,
        webhooks=StripeEvents(store, runtime.publish),
        oversight=Oversight(
            listings=Listings(store.transactions, store.escrows),
            store=store,
            cursors=runtime.cursors,
        ),
        invoicing=Invoicing(
            store=InvoiceStore(runtime.table("invoices"), runtime.table("invoice-counters")),
            files=InvoiceFiles(runtime.aws.s3, settings.physical("payment-invoices")),
            escrows=store,
            parties=RegisteredParties(runtime.peers),
            publish=runtime.publish,
            uow=runtime.uow,
            cursors=runtime.cursors,
        ),
        escrow=EscrowSteps(
            store=store,
            settlements=settlements,
            bucket=SubmissionBucket(runtime.aws.s3, settings.physical("escrow-submissions")),
            timers=timers,
            publish=runtime.publish,
            policy=Policy(transfer_window_days=settings.transfer_window_days),
        ),
        effects=effects,
        amendments=Amendments(payments=payments, effects=effects, new_uow=runtime.uow),
        local_stripe=provider if isinstance(provider, LocalStripe) else None,
    )


Deps = Annotated[PaymentDeps, Depends(service_deps)]
