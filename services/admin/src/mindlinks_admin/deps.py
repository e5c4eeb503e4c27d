"""What the admin service's routes depend on, built once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.types import ASGIApp

from mindlinks_admin.clients import (
    Accounts,
    Companies,
    Contractors,
    Contracts,
    Kyc,
    Ledger,
    Payments,
    Profiles,
    Signatures,
)
from mindlinks_admin.ops import Ops
from mindlinks_admin.peers import bad_answer, refusal
from mindlinks_admin.service.audit import Audit
from mindlinks_admin.service.business import Business
from mindlinks_admin.service.escrow import EscrowDesk
from mindlinks_admin.service.operations import Operations
from mindlinks_admin.service.people import People
from mindlinks_admin.settings import Settings
from mindlinks_admin.store import AuditStore
from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime


@dataclass
class AdminDeps:
    runtime: Runtime
    settings: Settings
    audit: Audit
    people: People
    business: Business
    escrow: EscrowDesk
    operations: Operations
    ops: Ops


async def setup(runtime: Runtime, own_app: Callable[[], ASGIApp]) -> AdminDeps:
    """``own_app``: this service's app, which the fleet views reach in-process."""
    settings = runtime.settings_as(Settings)
    peers = runtime.peers
    # The admin passes a peer's refusal on as it was, naming the peer.
    peers.refusal, peers.unreadable = refusal, bad_answer
    audit = Audit(AuditStore(runtime.table("audit")), runtime.cursors, settings.audit_days_per_page)
    contracts = Contracts(peers)
    ledger = Ledger(peers)
    payments = Payments(peers)
    ops = Ops(peers, runtime.service.name, own_app)
    return AdminDeps(
        runtime=runtime,
        settings=settings,
        audit=audit,
        people=People(
            accounts=Accounts(peers),
            profiles=Profiles(peers),
            companies=Companies(peers),
            contractors=Contractors(peers),
            kyc=Kyc(peers),
            contracts=contracts,
            audit=audit,
            deadline=settings.view_deadline_seconds,
        ),
        business=Business(
            contracts=contracts,
            signatures=Signatures(peers),
            ledger=ledger,
            payments=payments,
            audit=audit,
            deadline=settings.view_deadline_seconds,
        ),
        escrow=EscrowDesk(
            payments=payments,
            ledger=ledger,
            audit=audit,
            deadline=settings.view_deadline_seconds,
        ),
        operations=Operations(
            fleet=runtime.fleet,
            ops=ops,
            ledger=ledger,
            audit=audit,
            fleet_deadline=settings.fleet_deadline_seconds,
            deadline=settings.view_deadline_seconds,
        ),
        ops=ops,
    )


Deps = Annotated[AdminDeps, Depends(service_deps)]
