"""What the contract service's routes and handlers depend on, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_contract.clients import Companies, Contractors, Payments
from mindlinks_contract.documents import Documents
from mindlinks_contract.service.amendments import Amendments
from mindlinks_contract.service.contracts import Contracts
from mindlinks_contract.service.deadlines import Deadlines, SigningTimers
from mindlinks_contract.service.endings import Endings
from mindlinks_contract.service.operations import Operations
from mindlinks_contract.settings import Settings
from mindlinks_contract.store import ContractStore
from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime

BUCKET = "contract-documents"


@dataclass
class ContractDeps:
    runtime: Runtime
    settings: Settings
    contracts: Contracts
    operations: Operations
    endings: Endings
    deadlines: Deadlines
    amendments: Amendments


async def setup(runtime: Runtime) -> ContractDeps:
    settings = runtime.settings_as(Settings)
    if runtime.timers is None:
        raise RuntimeError("the contract service declares its termination and signing timers")
    signing = SigningTimers(runtime.timers)
    store = ContractStore(
        runtime.table("contracts"), runtime.table("templates"), runtime.table("amendments")
    )
    documents = Documents(
        runtime.aws.s3, settings.physical(BUCKET), link_ttl_seconds=settings.document_link_seconds
    )
    contracts = Contracts(
        store=store,
        documents=documents,
        companies=Companies(runtime.peers),
        contractors=Contractors(runtime.peers),
        publish=runtime.publish,
        cursors=runtime.cursors,
        signing=signing,
    )
    return ContractDeps(
        runtime=runtime,
        settings=settings,
        contracts=contracts,
        operations=Operations(contracts, runtime.cursors),
        endings=Endings(contracts, runtime.timers),
        deadlines=Deadlines(store, runtime.publish, signing),
        amendments=Amendments(
            contracts=contracts,
            store=store,
            documents=documents,
            payments=Payments(runtime.peers),
            publish=runtime.publish,
            cursors=runtime.cursors,
        ),
    )


Deps = Annotated[ContractDeps, Depends(service_deps)]
