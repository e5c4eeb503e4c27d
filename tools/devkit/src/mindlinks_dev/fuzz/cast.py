"""The people the hostile-input suite acts as, and the objects they own, made
the production way through the edge: two tenants, each the whole demo story
(client, company, invited and KYC-verified contractor, an active contract,
its escrow funded and released), a contractor of tenant A whose KYC session
is still open (what a forged decision would want to change), an admin
made by the operator CLI and signed in with a TOTP code, and tenant A's
team: one member per company role, invited and accepted through the edge."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mindlinks_dev import totp
from mindlinks_dev.demo import Person, Story, expect, until
from mindlinks_dev.members import add_member, company
from mindlinks_dev.outside import ADMIN_PASSWORD, Admin, bearer, create_admin, login
from mindlinks_fleet.teams import CompanyRole

ROLES = ("anonymous", "client", "contractor", "admin")
COMPANY_ROLES = tuple(role.value for role in CompanyRole)


@dataclass
class Party:
    """One signed-in person and the ids of what they own or are party to,
    by the path parameter that names each (``contract_id``, ``seq``...)."""

    role: str
    email: str
    user_id: str
    headers: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)


@dataclass
class Tenant:
    client: Party
    contractor: Party
    facts: dict[str, Any]

    def party(self, role: str) -> Party:
        return self.client if role == "client" else self.contractor


@dataclass
class Team:
    """Tenant A's company with one member per company role (its owner is the
    tenant's client, who registered it), beside tenant B's company."""

    members: dict[str, Party]
    """Company role → a member of company A with that role (``ids``: A's)."""
    own_company: str
    other_company: str

    def headers(self, role: str, company_id: str) -> dict[str, str]:
        """What ``role``'s member of A sends acting for ``company_id``."""
        return self.members[role].headers | company(company_id)


@dataclass
class Cast:
    edge: httpx.Client
    run_dir: Path
    a: Tenant
    b: Tenant
    admin: Admin
    pending_kyc: Party
    """A contractor of tenant A whose KYC session is open (``ids['session_id']``,
    ``ids['provider_session_id']``)."""
    team: Team

    def admin_party(self, tenant: Tenant) -> Party:
        """The admin, with ``tenant``'s ids: admins may see every tenant's objects."""
        ids = {**tenant.contractor.ids, **tenant.client.ids}
        return Party("admin", self.admin.email, self.admin.id, self.admin.headers, ids)

    def headers(self, role: str) -> dict[str, str]:
        """What a request of ``role`` (tenant A's party, the admin, or nobody) carries."""
        if role == "anonymous":
            return {}
        if role == "admin":
            return dict(self.admin.headers)
        return dict(self.a.party(role).headers)

    def relogin_admin(self) -> None:
        """A fresh admin session (its access token lives 15 minutes)."""
        tokens = login(self.edge, self.admin.email, ADMIN_PASSWORD, totp.code(self.admin.secret))
        self.admin = Admin(
            self.admin.id, self.admin.email, bearer(tokens["accessToken"]), self.admin.secret
        )


def _first(edge: httpx.Client, path: str, headers: dict[str, str], key: str = "id") -> str:
    body = expect(edge.get(path, headers=headers), 200)
    items = body["items"] if isinstance(body, dict) and "items" in body else body
    return str(items[0][key]) if items else ""


def _webhook_endpoint(edge: httpx.Client, owner: Person) -> str:
    """A webhook endpoint of the owner's company (issue 16), subscribed to an
    event the fuzz never causes, on a loopback port nothing listens on."""
    made = edge.post(
        "/v1/notifications/webhooks",
        headers=owner.auth,
        json={"url": "http://127.0.0.1:9/fuzz", "eventTypes": ["contract.expired"]},
    )
    return str(expect(made, 201)["id"])


def _amendment(edge: httpx.Client, owner: Person, contract_id: str) -> str:
    """Amendment 1 of the tenant's active contract (issue 16), left open: a
    later end date, so the amendment routes' cells name a real one."""
    made = edge.post(
        f"/v1/contracts/{contract_id}/amendments",
        headers=owner.auth,
        json={"reason": "The fuzz cast's amendment.", "endDate": "2099-12-31"},
    )
    return str(expect(made, 201)["number"])


def _tenant(edge: httpx.Client) -> Tenant:
    facts = Story(edge, lambda _: None).run()
    client: Person = facts["client"]
    contractor: Person = facts["contractor"]
    contract_id = facts["contractId"]
    shared = {
        "contract_id": contract_id,
        "contractor_id": facts["contractorId"],
        "seq": str(facts["ledgerEntries"][0]["seq"]),
        "number": _amendment(edge, client, contract_id),
    }
    company = expect(edge.get("/v1/clients/me", headers=client.auth), 200)
    client_ids = {
        **shared,
        "user_id": client.user_id,
        "company_id": company["id"],
        "invitation_id": _first(edge, "/v1/clients/invitations", client.auth),
        "notification_id": _first(edge, "/v1/notifications/me", client.auth),
        "escrow_id": facts["schedule"][0]["escrowId"],
        "transaction_id": _first(edge, "/v1/payments/transactions", client.auth),
        # Issued once the release's event is consumed: waited for, so "own"
        # cells name a real invoice.
        "invoice_id": until(
            lambda: _first(edge, "/v1/payments/invoices", client.auth),
            "the first release's invoice",
        ),
        "endpoint_id": _webhook_endpoint(edge, client),
    }
    kyc = expect(edge.get("/v1/kyc/me", headers=contractor.auth), 200)
    contractor_ids = {
        **shared,
        "user_id": contractor.user_id,
        "session_id": kyc["session"]["id"],
        "notification_id": _first(edge, "/v1/notifications/me", contractor.auth),
    }
    return Tenant(
        Party("client", client.email, client.user_id, client.auth, client_ids),
        Party("contractor", contractor.email, contractor.user_id, contractor.auth, contractor_ids),
        facts,
    )


def _pending_kyc(edge: httpx.Client, owner: Party) -> Party:
    """A contractor invited by ``owner``'s company, with a KYC session opened
    and not decided."""
    story = Story(edge, lambda _: None)
    person = Person(f"pending-{uuid.uuid4().hex[:8]}@example.com", "Pat Pending", "contractor")
    expect(
        edge.post(
            "/v1/clients/invite-contractor",
            headers=owner.headers,
            json={"email": person.email, "name": person.name},
        ),
        201,
    )
    invitation = story.mail(person.email, "client.invitation")["data"]["token"]
    story.sign_up(person)
    expect(
        edge.post(
            "/v1/contractors/accept-invitation", headers=person.auth, json={"token": invitation}
        ),
        200,
        201,
    )
    session = expect(edge.post("/v1/kyc/sessions", headers=person.auth), 201)
    page = expect(edge.get(f"/v1/kyc/dev/sessions/{session['id']}"), 200)
    ids = {"session_id": session["id"], "provider_session_id": page["providerSessionId"]}
    return Party("contractor", person.email, person.user_id, person.auth, ids)


def _team(edge: httpx.Client, a: Tenant, b: Tenant) -> Team:
    """Company A's owner invites one member per other company role; each
    signs up and accepts through the edge."""
    story = Story(edge, lambda _: None)
    owner = a.client
    members = {CompanyRole.OWNER.value: Party("owner", owner.email, owner.user_id, owner.headers)}
    for role in COMPANY_ROLES[1:]:
        person = add_member(story, owner.headers, role, name=f"{role.title()} Member")
        members[role] = Party(role, person.email, person.user_id, person.auth)
    for member in members.values():
        member.ids = dict(owner.ids)
    return Team(members, owner.ids["company_id"], b.client.ids["company_id"])


def assemble(edge: httpx.Client, run_dir: Path) -> Cast:
    a = _tenant(edge)
    b = _tenant(edge)
    admin = create_admin(edge, run_dir, name="Grace Hopper")
    return Cast(edge, run_dir, a, b, admin, _pending_kyc(edge, a.client), _team(edge, a, b))
