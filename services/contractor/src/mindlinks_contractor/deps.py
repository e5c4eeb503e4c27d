"""What the contractor service's routes and handlers depend on, built once
per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_contractor.clients import AuthAccounts, ClientCompanies
from mindlinks_contractor.service.bank import BankDetails
from mindlinks_contractor.service.contractors import Contractors
from mindlinks_contractor.settings import Settings
from mindlinks_contractor.store import ContractorStore
from mindlinks_contractor.vault import Vault
from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime


@dataclass
class ContractorDeps:
    runtime: Runtime
    settings: Settings
    contractors: Contractors
    bank: BankDetails


async def setup(runtime: Runtime) -> ContractorDeps:
    settings = runtime.settings_as(Settings)
    store = ContractorStore(
        runtime.table("profiles"), runtime.table("engagements"), runtime.table("bank-details")
    )
    contractors = Contractors(
        store,
        AuthAccounts(runtime.peers),
        ClientCompanies(runtime.peers),
        runtime.publish,
        runtime.cursors,
    )
    bank = BankDetails(store, Vault(runtime.aws.kms, settings.data_key))
    return ContractorDeps(runtime=runtime, settings=settings, contractors=contractors, bank=bank)


Deps = Annotated[ContractorDeps, Depends(service_deps)]
