"""Stand-ins for the client, contractor, ledger and payment services' internal routes,
for the tests of the contract lifecycle when those services are not installed
(or ``MINDLINKS_TEST_STAND_INS=1``): mounted from the routes' declarations, so
they answer the same paths, models and callers as the real owners. Tests put
the records the owners would hold in a ``Directory``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI, Header, Response

from mindlinks_fleet.internal import client, contractor, ledger, payment
from mindlinks_fleet.internal.client import (
    CompanyMember,
    CompanyMembers,
    MemberRecord,
    Memberships,
)
from mindlinks_fleet.internal.ledger import AppendIn, AppendOut
from mindlinks_fleet.internal.payment import ContractItemsOut, ItemStateOut
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.auth import ServiceCaller, service_caller
from mindlinks_kit.errors import NotFound, install_handlers
from mindlinks_kit.internal import serve


@dataclass
class Directory:
    """Stand-ins for the client, contractor, ledger and payment services' internal
    routes, mounted from their declarations (``mindlinks_fleet.internal``):
    the same paths, answer models and allowed callers as the real owners, so
    they cannot drift from them."""

    companies: dict[str, dict[str, Any]] = field(default_factory=dict)
    contractors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Records as the owners answer them (camelCase), which tests may edit."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    """The ledger stand-in's journal: each appended body with its ``receipt``."""
    item_states: dict[str, dict[str, str]] = field(default_factory=dict)
    """The payment stand-in's escrow: contract id → {item id: state}."""
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    """user id → {company id: role}: memberships beside each company's owner
    (who is its ``owner`` member without being listed here)."""

    def memberships(self, user_id: str) -> dict[str, str]:
        """The user's companies and roles, as the client service keeps them."""
        owned = {c["id"]: "owner" for c in self.companies.values() if c["ownerUserId"] == user_id}
        return {**owned, **self.members.get(user_id, {})}

    def _app(self) -> tuple[FastAPI, APIRouter]:
        app = FastAPI()
        install_handlers(app)
        # Who calls, from the service token's subject: the declared callers'
        # check then runs as it does on the real owner (signatures are the
        # real owners' business, not the stand-ins').
        app.dependency_overrides[service_caller] = _unverified_caller
        return app, APIRouter()

    def client_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, client.MEMBERSHIPS)
        async def memberships(user_id: str) -> Memberships:
            found = self.memberships(user_id)
            return Memberships(
                items=[MemberRecord(company_id=c, role=CompanyRole(r)) for c, r in found.items()]
            )

        @serve(router, client.COMPANY_MEMBERS)
        async def company_members(company_id: str) -> CompanyMembers:
            found = {u: m[company_id] for u, m in self.members.items() if company_id in m}
            owner = self.companies.get(company_id, {}).get("ownerUserId")
            if owner is not None:
                found.setdefault(owner, "owner")
            return CompanyMembers(
                items=[CompanyMember(user_id=u, role=CompanyRole(r)) for u, r in found.items()]
            )

        @serve(router, client.COMPANY)
        async def company(company_id: str) -> dict[str, Any]:
            if company_id not in self.companies:
                raise NotFound()
            return self.companies[company_id]

        app.include_router(router)
        return app

    def contractor_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, contractor.CONTRACTOR_BY_USER)
        async def by_user(user_id: str) -> dict[str, Any]:
            found = [c for c in self.contractors.values() if c["userId"] == user_id]
            if not found:
                raise NotFound()
            return found[0]

        @serve(router, contractor.CONTRACTOR)
        async def by_id(contractor_id: str) -> dict[str, Any]:
            if contractor_id not in self.contractors:
                raise NotFound()
            return self.contractors[contractor_id]

        app.include_router(router)
        return app

    def payment_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, payment.CONTRACT_ITEMS)
        async def contract_items(contract_id: str) -> ContractItemsOut:
            states = self.item_states.get(contract_id, {})
            return ContractItemsOut(
                contract_id=contract_id,
                items=[
                    ItemStateOut(item_id=item, state=state, amount_minor=1)
                    for item, state in states.items()
                ],
            )

        app.include_router(router)
        return app

    def ledger_app(self) -> FastAPI:
        app, router = self._app()

        @serve(router, ledger.APPEND)
        async def append(body: AppendIn, response: Response) -> dict[str, Any]:
            wire = body.model_dump(mode="json", by_alias=True)
            for entry in self.entries:
                if entry["idempotencyKey"] == wire["idempotencyKey"]:
                    assert (entry["kind"], entry["subject"], entry["data"]) == (
                        wire["kind"],
                        wire["subject"],
                        wire["data"],
                    ), "same key, other entry"
                    response.status_code = 200
                    receipt: dict[str, Any] = entry["receipt"]
                    return receipt
            content = hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()
            previous = self.entries[-1]["receipt"]["entryHash"] if self.entries else "0" * 64
            receipt = AppendOut(
                seq=len(self.entries) + 1,
                entry_hash=hashlib.sha256((previous + content).encode()).hexdigest(),
                content_hash=content,
                prev_hash=previous,
                recorded_at="2026-03-02T10:00:00.000000Z",
            ).model_dump(mode="json", by_alias=True)
            self.entries.append({**wire, "receipt": receipt})
            return receipt

        app.include_router(router)
        return app


async def _unverified_caller(authorization: str = Header()) -> ServiceCaller:
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer", "stand-ins are called with a service token"
    claims = jwt.decode(token, options={"verify_signature": False})
    return ServiceCaller(service=str(claims["sub"]), user=None)
