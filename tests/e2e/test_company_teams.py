"""Company teams (issue 14), through the public edge only: an owner invites
a finance member, who funds and releases but cannot sign or invite; a
manager drafts and invites contractors but neither signs nor pays; a viewer
can only read; a removed member is refused within seconds by every service;
an accountant in two companies names the one each request acts for and sees
only that company's data."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mindlinks_dev.demo import Person, Story, contract_draft, expect
from mindlinks_dev.members import INVITATIONS, add_member, company
from mindlinks_fleet.teams import (
    CompanyHeaderRequired,
    CompanyNotFound,
    CompanyRequired,
    CompanyRoleNotAllowed,
)

PROBLEM = "application/problem+json"
REMOVAL_SECONDS = 10.0
"""How soon a removed member must be refused everywhere ("within seconds")."""


@dataclass
class Acme:
    """A company with an onboarded contractor, an active contract with its
    payment schedule, and two members beside the owner."""

    story: Story
    owner: Person
    company_id: str
    contractor: Person
    contractor_id: str
    contract_id: str
    finance: Person
    viewer: Person
    company_signature: dict[str, Any]
    """The owner's answer to signing ``contract_id`` for the company."""

    def draft_and_send(self) -> str:
        """Another contract, drafted and sent for signature by the owner."""
        key = {"Idempotency-Key": uuid.uuid4().hex}
        drafted = expect(
            self.story.api.post(
                "/v1/contracts",
                headers=self.owner.auth | key,
                json=contract_draft(self.contractor_id, "Second phase"),
            ),
            201,
        )
        expect(
            self.story.api.post(f"/v1/contracts/{drafted['id']}/send", headers=self.owner.auth), 200
        )
        return str(drafted["id"])

    def schedule(self, person: Person) -> list[dict[str, Any]]:
        found = self.story.api.get(
            f"/v1/payments/contracts/{self.contract_id}/schedule", headers=person.auth
        )
        items: list[dict[str, Any]] = expect(found, 200)["items"]
        return items


def sign(edge: httpx.Client, person: Person, contract_id: str) -> httpx.Response:
    """``person`` signs after confirming a mailed code (whatever their company role)."""
    return edge.post(
        f"/v1/signatures/contracts/{contract_id}/sign",
        headers=person.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json={
            "consent": True,
            "signatureName": person.name,
            "stepUpToken": Story(edge, lambda _: None).step_up(person, contract_id),
        },
    )


def refused(response: httpx.Response, status: int, code: str) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == PROBLEM, where
    assert response.json()["code"] == code, f"{where}: {response.text}"


def not_allowed(response: httpx.Response) -> None:
    refused(response, 403, CompanyRoleNotAllowed.code)


@pytest.fixture(scope="module")
def acme(edge: httpx.Client) -> Acme:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    owner = Person(f"owner-{run}@acme.example", "Olivia Owner", "client")
    contractor = Person(f"dev-{run}@contractor.example", "Dev Contractor", "contractor")
    story.sign_up(owner)
    company_id = story.register_company(owner)["id"]
    contractor_id = story.onboard_contractor(owner, contractor)
    finance = add_member(story, owner.auth, "finance", name="Fiona Finance")
    viewer = add_member(story, owner.auth, "viewer", name="Victor Viewer")
    acme = Acme(story, owner, company_id, contractor, contractor_id, "", finance, viewer, {})
    acme.contract_id = acme.draft_and_send()
    acme.company_signature = expect(sign(edge, owner, acme.contract_id), 201)
    expect(sign(edge, contractor, acme.contract_id), 201)

    def scheduled() -> list[dict[str, Any]]:
        items = acme.schedule(owner)
        return items if items and all(i.get("paymentIntentId") for i in items) else []

    story.until(scheduled, "the payment schedule of the active contract")
    return acme


def test_the_owner_sees_the_invited_members_with_their_roles(
    edge: httpx.Client, acme: Acme
) -> None:
    page = expect(edge.get("/v1/clients/me/members", headers=acme.owner.auth), 200)
    roles = {m["email"]: m["role"] for m in page["items"]}
    assert roles == {
        acme.owner.email: "owner",
        acme.finance.email: "finance",
        acme.viewer.email: "viewer",
    }
    mine = expect(edge.get("/v1/clients/memberships", headers=acme.finance.auth), 200)
    assert [(m["companyId"], m["role"]) for m in mine["items"]] == [(acme.company_id, "finance")]


def test_each_member_is_told_by_mail_which_company_and_role(acme: Acme) -> None:
    for member, role in ((acme.finance, "finance"), (acme.viewer, "viewer")):
        told = acme.story.mail(member.email, "company.member-added")
        assert told["data"]["role"] == role, told


def test_the_company_signature_records_the_member_who_signed(
    edge: httpx.Client, acme: Acme
) -> None:
    signed = acme.company_signature
    assert (signed["signerUserId"], signed["signerCompanyId"], signed["signerCompanyRole"]) == (
        acme.owner.user_id,
        acme.company_id,
        "owner",
    )
    history = expect(
        edge.get(f"/v1/ledger/contracts/{acme.contract_id}/history", headers=acme.owner.auth), 200
    )
    [entry] = [
        e
        for e in history["items"]
        if e["kind"] == "signature" and e["data"].get("signerUserId") == acme.owner.user_id
    ]
    assert (entry["data"]["companyId"], entry["data"]["companyRole"]) == (acme.company_id, "owner")


def test_a_finance_member_funds_and_releases(edge: httpx.Client, acme: Acme) -> None:
    first = acme.schedule(acme.finance)[0]
    # Funding is the card holder confirming the PaymentIntent with Stripe.js:
    # the finance member gets its client secret; the local Stripe plays the card.
    assert first.get("clientSecret"), first
    expect(
        edge.post(f"/v1/payments/dev/intents/{first['paymentIntentId']}/succeed"),
        202,
    )
    acme.story.until(
        lambda: any(
            i["itemId"] == first["itemId"] and i["escrowState"] == "funded"
            for i in acme.schedule(acme.finance)
        ),
        "the first item to be funded",
    )
    released = expect(
        edge.post(
            f"/v1/payments/escrow/{first['escrowId']}/release",
            headers=acme.finance.auth | {"Idempotency-Key": uuid.uuid4().hex},
        ),
        200,
    )
    assert released["state"] == "released", released
    mine = expect(edge.get("/v1/payments/transactions", headers=acme.finance.auth), 200)
    assert mine["items"], "the finance member sees the company's transactions"


def test_a_finance_member_cannot_sign_draft_or_invite(edge: httpx.Client, acme: Acme) -> None:
    second = acme.draft_and_send()
    not_allowed(sign(edge, acme.finance, second))
    not_allowed(
        edge.post(
            "/v1/contracts",
            headers=acme.finance.auth | {"Idempotency-Key": uuid.uuid4().hex},
            json=contract_draft(acme.contractor_id),
        )
    )
    not_allowed(
        edge.post(
            INVITATIONS,
            headers=acme.finance.auth,
            json={"email": f"x-{uuid.uuid4().hex[:8]}@team.example", "role": "viewer"},
        )
    )
    not_allowed(
        edge.post(
            "/v1/clients/invite-contractor",
            headers=acme.finance.auth,
            json={"email": f"y-{uuid.uuid4().hex[:8]}@contractor.example"},
        )
    )
    # Still unsigned by the company: the refusal changed nothing.
    contract = expect(edge.get(f"/v1/contracts/{second}", headers=acme.owner.auth), 200)
    assert contract["status"] == "sent_for_signature", contract


def test_a_manager_drafts_and_invites_contractors_but_neither_signs_nor_pays(
    edge: httpx.Client, acme: Acme
) -> None:
    manager = add_member(acme.story, acme.owner.auth, "manager", name="Hank Hiring")
    drafted = expect(
        edge.post(
            "/v1/contracts",
            headers=manager.auth | {"Idempotency-Key": uuid.uuid4().hex},
            json=contract_draft(acme.contractor_id, "Hiring manager's draft"),
        ),
        201,
    )
    expect(edge.post(f"/v1/contracts/{drafted['id']}/send", headers=manager.auth), 200)
    expect(
        edge.post(
            "/v1/clients/invite-contractor",
            headers=manager.auth,
            json={"email": f"hire-{uuid.uuid4().hex[:8]}@contractor.example"},
        ),
        201,
    )
    # The contract is the company's: the owner reads it and may sign it.
    read = expect(edge.get(f"/v1/contracts/{drafted['id']}", headers=acme.owner.auth), 200)
    assert read["status"] == "sent_for_signature"
    not_allowed(sign(edge, manager, drafted["id"]))
    escrow = acme.schedule(acme.owner)[-1]["escrowId"]
    not_allowed(
        edge.post(
            f"/v1/payments/escrow/{escrow}/release",
            headers=manager.auth | {"Idempotency-Key": uuid.uuid4().hex},
        )
    )
    not_allowed(
        edge.post(
            INVITATIONS, headers=manager.auth, json={"email": "m@team.example", "role": "viewer"}
        )
    )


def test_a_viewer_can_only_read(edge: httpx.Client, acme: Acme) -> None:
    viewer = acme.viewer.auth
    reads = [
        "/v1/clients/me",
        "/v1/clients/me/members",
        "/v1/clients/me/member-invitations",
        "/v1/clients/invitations",
        "/v1/clients/contractors",
        "/v1/contracts",
        f"/v1/contracts/{acme.contract_id}",
        f"/v1/payments/contracts/{acme.contract_id}/schedule",
        "/v1/payments/transactions",
        f"/v1/contractors/{acme.contractor_id}",
    ]
    statuses = {path: edge.get(path, headers=viewer).status_code for path in reads}
    assert set(statuses.values()) == {200}, statuses
    listed = expect(edge.get("/v1/contracts", headers=viewer), 200)["items"]
    assert acme.contract_id in {c["id"] for c in listed}

    me = expect(edge.get("/v1/clients/me", headers=acme.owner.auth), 200)
    escrow = acme.schedule(acme.owner)[-1]["escrowId"]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    writes = [
        edge.patch(
            "/v1/clients/me", headers=viewer, json={"tradingName": "Mine", "version": me["version"]}
        ),
        edge.post("/v1/contracts", headers=viewer | key, json=contract_draft(acme.contractor_id)),
        edge.post(f"/v1/contracts/{acme.contract_id}/void", headers=viewer, json={"reason": "x"}),
        sign(edge, acme.viewer, acme.draft_and_send()),
        edge.post(f"/v1/payments/escrow/{escrow}/release", headers=viewer | key),
        edge.post(INVITATIONS, headers=viewer, json={"email": "v@team.example", "role": "viewer"}),
        edge.post("/v1/clients/invite-contractor", headers=viewer, json={"email": "v@x.example"}),
        edge.patch(
            f"/v1/clients/me/members/{acme.finance.user_id}",
            headers=viewer,
            json={"role": "viewer", "version": 1},
        ),
        edge.delete(f"/v1/clients/me/members/{acme.finance.user_id}", headers=viewer),
    ]
    for response in writes:
        not_allowed(response)
    after = expect(edge.get("/v1/clients/me", headers=acme.owner.auth), 200)
    assert after["version"] == me["version"]


Probes = dict[str, Callable[[], httpx.Response]]


def _refused_within(probes: Probes, seconds: float) -> dict[str, float]:
    """Poll each probe until it is refused (problem+json 403/404/409): the
    seconds each took; fails at the deadline with what still answered."""
    started = time.monotonic()
    refused_after: dict[str, float] = {}
    last: dict[str, httpx.Response] = {}
    while len(refused_after) < len(probes) and time.monotonic() - started < seconds:
        for name, probe in probes.items():
            if name in refused_after:
                continue
            last[name] = response = probe()
            if response.status_code in (403, 404, 409) and (
                response.headers.get("content-type") == PROBLEM
            ):
                refused_after[name] = time.monotonic() - started
        time.sleep(0.1)
    still = {n: (r.status_code, r.text[:160]) for n, r in last.items() if n not in refused_after}
    assert not still, f"after {seconds:.0f}s still served: {still}; refused: {refused_after}"
    return refused_after


def test_a_removed_member_is_refused_within_seconds(edge: httpx.Client, acme: Acme) -> None:
    leaver = add_member(acme.story, acme.owner.auth, "viewer", name="Lee Leaver")
    probes: Probes = {
        "client": lambda: edge.get("/v1/clients/me", headers=leaver.auth),
        "contract": lambda: edge.get(f"/v1/contracts/{acme.contract_id}", headers=leaver.auth),
        "payment": lambda: edge.get(
            f"/v1/payments/contracts/{acme.contract_id}/schedule", headers=leaver.auth
        ),
        "contractor": lambda: edge.get(
            f"/v1/contractors/{acme.contractor_id}", headers=leaver.auth
        ),
    }
    # Each service has read (and cached) the membership before it changes.
    before = {name: probe().status_code for name, probe in probes.items()}
    assert before == dict.fromkeys(probes, 200)

    removed = edge.delete(f"/v1/clients/me/members/{leaver.user_id}", headers=acme.owner.auth)
    assert removed.status_code == 204, removed.text
    _refused_within(probes, REMOVAL_SECONDS)
    refused(edge.get("/v1/clients/me", headers=leaver.auth), 409, CompanyRequired.code)
    refused(
        edge.get("/v1/clients/me", headers=leaver.auth | company(acme.company_id)),
        404,
        CompanyNotFound.code,
    )
    page = expect(edge.get("/v1/clients/me/members", headers=acme.owner.auth), 200)
    assert leaver.email not in {m["email"] for m in page["items"]}
    acme.story.mail(leaver.email, "company.member-removed")


def test_an_accountant_in_two_companies_names_the_company_each_request_acts_for(
    edge: httpx.Client, acme: Acme
) -> None:
    story = acme.story
    other_owner = Person(f"owner-{uuid.uuid4().hex[:8]}@globex.example", "Gus Globex", "client")
    story.sign_up(other_owner)
    globex = story.register_company(other_owner)["id"]
    accountant = add_member(story, acme.owner.auth, "viewer", name="Ann Accountant")
    add_member(story, other_owner.auth, "finance", person=accountant)

    mine = expect(edge.get("/v1/clients/memberships", headers=accountant.auth), 200)
    assert {(m["companyId"], m["role"]) for m in mine["items"]} == {
        (acme.company_id, "viewer"),
        (globex, "finance"),
    }
    for path in ("/v1/clients/me", "/v1/contracts", "/v1/payments/transactions"):
        refused(edge.get(path, headers=accountant.auth), 400, CompanyHeaderRequired.code)

    as_acme = accountant.auth | company(acme.company_id)
    as_globex = accountant.auth | company(globex)
    assert expect(edge.get("/v1/clients/me", headers=as_acme), 200)["id"] == acme.company_id
    assert expect(edge.get("/v1/clients/me", headers=as_globex), 200)["id"] == globex
    listed = expect(edge.get("/v1/contracts", headers=as_acme), 200)["items"]
    assert acme.contract_id in {c["id"] for c in listed}
    assert expect(edge.get("/v1/contracts", headers=as_globex), 200)["items"] == []
    assert edge.get(f"/v1/contracts/{acme.contract_id}", headers=as_globex).status_code == 404
    assert expect(edge.get("/v1/payments/transactions", headers=as_globex), 200)["items"] == []
    # Each company's role holds for its own requests only: finance at Globex
    # is a viewer at Acme.
    escrow = acme.schedule(acme.owner)[-1]["escrowId"]
    not_allowed(
        edge.post(
            f"/v1/payments/escrow/{escrow}/release",
            headers=as_acme | {"Idempotency-Key": uuid.uuid4().hex},
        )
    )
    # A company the accountant is not in answers as an unknown one.
    stranger = company(uuid.uuid4().hex)
    unknown = edge.get("/v1/clients/me", headers=accountant.auth | stranger)
    refused(unknown, 404, CompanyNotFound.code)
