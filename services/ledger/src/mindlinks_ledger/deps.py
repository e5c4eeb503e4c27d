"""What the ledger's routes and handlers depend on, built once per process,
and the periodic digest task's place in the app's lifespan."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_ledger.anchoring import DigestArchive, periodically
from mindlinks_ledger.clients import Contracts
from mindlinks_ledger.journal import Journal
from mindlinks_ledger.service.activation import Activations
from mindlinks_ledger.service.escrow import MoneySteps
from mindlinks_ledger.service.ledger import Ledger
from mindlinks_ledger.settings import Settings
from mindlinks_ledger.store import JournalStore

BUCKET = "ledger-digests"


@dataclass
class LedgerDeps:
    runtime: Runtime
    settings: Settings
    journal: Journal
    archive: DigestArchive
    ledger: Ledger
    activations: Activations
    steps: MoneySteps


async def setup(runtime: Runtime) -> LedgerDeps:
    settings = runtime.settings_as(Settings)
    store = JournalStore(runtime.table("journal"), runtime.table("heads"))
    journal = Journal(
        store,
        attempts=settings.append_attempts,
        max_data_bytes=settings.max_entry_data_bytes,
        digest_cache_seconds=settings.digest_cache_seconds,
    )
    archive = DigestArchive(
        runtime.aws.s3, settings.physical(BUCKET), store, settings.digest_retention_days
    )
    contracts = Contracts(runtime.peers)
    ledger = Ledger(
        journal,
        archive,
        contracts,
        runtime.metrics,
        verify_cache_seconds=settings.verify_cache_seconds,
    )
    return LedgerDeps(
        runtime=runtime,
        settings=settings,
        journal=journal,
        archive=archive,
        ledger=ledger,
        activations=Activations(
            journal, contracts, runtime.publish, after_activation=ledger.anchor_after_activation
        ),
        steps=MoneySteps(journal),
    )


def background(deps: LedgerDeps) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    """The ledger's own background task: anchor a digest when the journal grew,
    every interval and after every activation."""

    def digests() -> Coroutine[Any, Any, None]:
        return periodically(
            deps.ledger.anchor_if_grown,
            deps.settings.digest_interval_seconds,
            "digests",
            wake=deps.ledger.anchor_due,
        )

    return {"ledger-digests": digests}


Deps = Annotated[LedgerDeps, Depends(service_deps)]
