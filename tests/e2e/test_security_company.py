"""Security issue #9, item 1, through the public edge only: a registry number
belongs to at most one active company. A second account claiming a number
another company holds is held for review (it cannot invite), the first
owner is told by mail, and an admin decides — approving it is refused while
the first company holds the number; rejecting it tells the claimant why."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks_dev.demo import Person, Story, expect
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.outside import create_admin

ADDRESS = {"line1": "1 Widget Street", "city": "London", "postalCode": "EC1A 1AA", "country": "GB"}


@pytest.fixture(scope="module")
def admin_headers(edge: httpx.Client, fleet_run_dir: Path) -> dict[str, str]:
    return create_admin(edge, fleet_run_dir).headers


def register(edge: httpx.Client, person: Person, number: str, name: str) -> dict[str, Any]:
    body = {"legalName": name, "jurisdictionCode": "gb", "companyNumber": number}
    company: dict[str, Any] = expect(
        edge.post("/v1/clients/register", headers=person.auth, json={**body, "address": ADDRESS}),
        201,
    )
    return company


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_a_second_claim_on_a_registry_number_is_held_for_an_admin(
    edge: httpx.Client, admin_headers: dict[str, str]
) -> None:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    first = Person(f"owner-{run}@first.example", "Olivia Owner", "client")
    second = Person(f"claimant-{run}@second.example", "Mallory Claimant", "client")
    for person in (first, second):
        story.sign_up(person)
    local = local_company()

    active = register(edge, first, local.company_number, local.legal_name)
    assert (active["status"], active["holdReasons"]) == ("active", [])

    # The same number from another account: held, and it cannot act as the company.
    claim = register(edge, second, local.company_number, local.legal_name)
    assert (claim["status"], claim["holdReasons"]) == (
        "pending_review",
        ["number-already-registered"],
    )
    assert active["id"] not in json.dumps(claim)
    problem(
        edge.post(
            "/v1/clients/invite-contractor",
            headers=second.auth,
            json={"email": f"dev-{run}@contractor.example"},
        ),
        409,
        "company-not-active",
    )

    # The first owner is told (the local mailbox), without the claimant's identity.
    told = story.mail(first.email, "company.claim-contested")
    assert local.legal_name in told["subject"]
    assert f"GB {local.company_number}" in told["text"]
    assert second.email not in told["text"]
    assert second.name not in told["text"]

    # The admin sees the claim, which company holds the number and why it is held.
    listed = expect(
        edge.get(
            "/v1/admin/companies",
            headers=admin_headers,
            params={"status": "pending_review", "limit": 100},
        ),
        200,
    )
    [record] = [c for c in listed["items"] if c["id"] == claim["id"]]
    assert (record["conflictsWith"], record["holdReasons"]) == (
        active["id"],
        ["number-already-registered"],
    )

    # Approving it while the first company holds the number is refused: no transfer.
    refused = problem(
        edge.post(
            f"/v1/admin/companies/{claim['id']}/approve",
            headers=admin_headers,
            json={"reason": "claims to be the owner"},
        ),
        409,
        "company-number-taken",
    )
    assert active["id"] in refused["detail"]
    still = expect(edge.get("/v1/clients/me", headers=second.auth), 200)
    assert still["status"] == "pending_review"

    # The admin rejects it; the claimant is told why, the first company is untouched.
    rejected = expect(
        edge.post(
            f"/v1/admin/companies/{claim['id']}/reject",
            headers=admin_headers,
            json={"reason": "The registry number belongs to another customer"},
        ),
        200,
    )
    assert rejected["status"] == "rejected"
    why = story.mail(second.email, "company.rejected")
    assert "belongs to another customer" in why["text"]
    mine = expect(edge.get("/v1/clients/me", headers=first.auth), 200)
    assert (mine["id"], mine["status"]) == (active["id"], "active")
    invited = edge.post(
        "/v1/clients/invite-contractor",
        headers=first.auth,
        json={"email": f"dev-{run}@contractor.example"},
    )
    assert invited.status_code == 201, invited.text


def test_an_admin_sides_with_the_claimant_only_by_revoking_the_holder_first(
    edge: httpx.Client, admin_headers: dict[str, str]
) -> None:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    squatter = Person(f"squatter-{run}@first.example", "Sam Squatter", "client")
    owner = Person(f"owner-{run}@second.example", "Rita Rightful", "client")
    for person in (squatter, owner):
        story.sign_up(person)
    local = local_company()
    held_by_squatter = register(edge, squatter, local.company_number, local.legal_name)
    claim = register(edge, owner, local.company_number, local.legal_name)
    assert claim["status"] == "pending_review"

    revoked = expect(
        edge.post(
            f"/v1/admin/companies/{held_by_squatter['id']}/revoke",
            headers=admin_headers,
            json={"reason": "The registered director confirmed the other claim"},
        ),
        200,
    )
    assert revoked["status"] == "rejected"
    told = story.mail(squatter.email, "company.rejected")
    assert "confirmed the other claim" in told["text"]
    approved = expect(
        edge.post(f"/v1/admin/companies/{claim['id']}/approve", headers=admin_headers, json={}),
        200,
    )
    assert approved["status"] == "active"
    story.mail(owner.email, "company.approved")
    problem(
        edge.post(
            "/v1/clients/invite-contractor",
            headers=squatter.auth,
            json={"email": f"dev-{run}@contractor.example"},
        ),
        409,
        "company-not-active",
    )
    invited = edge.post(
        "/v1/clients/invite-contractor",
        headers=owner.auth,
        json={"email": f"dev-{run}@contractor.example"},
    )
    assert invited.status_code == 201, invited.text
    trail = expect(
        edge.get(
            "/v1/admin/audit",
            headers=admin_headers,
            params={"target": f"company:{held_by_squatter['id']}", "action": "company.revoke"},
        ),
        200,
    )
    assert {r["phase"] for r in trail["items"]} == {"requested", "succeeded"}
