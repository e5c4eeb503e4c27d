"""Ordinary bad input through the public edge: a 4xx that says what is wrong,
never a 5xx (a 5xx means our fault alone, so the 5xx alarms stay true); text
another party will read carries no control or bidi characters; a wrong method
names exactly the methods the path supports."""

from __future__ import annotations

import uuid

import httpx
import pytest

from mindlinks_dev.demo import Person, Story


@pytest.fixture(scope="module")
def person(edge: httpx.Client) -> Person:
    """A client owning a company: routes acting for a company check the
    membership before the input (a client of none hears ``company-required``)."""
    someone = Person(f"input-{uuid.uuid4().hex[:8]}@example.com", "Ida Input", "client")
    story = Story(edge, lambda _: None)
    story.sign_up(someone)
    story.register_company(someone)
    return someone


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/payments/contracts/" + "a" * 128 + "/schedule", None),
        ("GET", "/v1/ledger/contracts/" + "a" * 200 + "/history", None),
        ("POST", "/v1/ledger/verify", {"contractId": "a" * 200, "pdfSha256": "0" * 64}),
        ("GET", "/v1/signatures/contracts/" + "a" * 65, None),
        ("GET", "/v1/contracts/" + "a" * 65, None),
    ],
)
def test_a_long_id_is_refused_not_a_peer_outage(
    edge: httpx.Client, person: Person, method: str, path: str, body: object
) -> None:
    response = edge.request(method, path, json=body, headers=person.auth)
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] != "peer-unavailable"


COMPANY = {
    "jurisdictionCode": "gb",
    "companyNumber": "00000001",
    "address": {"line1": "1 Main St", "city": "London", "postalCode": "N1", "country": "GB"},
}
CONTRACT = {
    "contractorId": "c" * 32,
    "description": "Work",
    "currency": "EUR",
    "startDate": "2030-01-01",
    "terms": {"kind": "fixed", "amountMinor": 1000, "dueDate": "2030-02-01"},
}


@pytest.mark.parametrize("bad", ["Ida\x00", "Ida\u202etxt.exe", "Ida\nInput"])
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/v1/users/me", {}, "displayName"),
        ("POST", "/v1/clients/register", COMPANY, "legalName"),
        ("POST", "/v1/contracts", CONTRACT, "title"),
        ("POST", "/v1/auth/register", {"email": "x@example.com", "password": "p" * 16}, "name"),
    ],
)
def test_control_and_bidi_characters_are_refused_in_shown_text(
    edge: httpx.Client,
    person: Person,
    bad: str,
    method: str,
    path: str,
    body: dict[str, object],
    field: str,
) -> None:
    payload = {**body, field: bad}
    if path == "/v1/auth/register":
        payload["role"] = "client"
    response = edge.request(method, path, json=payload, headers=person.auth)
    assert response.status_code == 422, response.text
    refused = [e for e in response.json()["errors"] if e["location"][-1] == field]
    assert refused, response.text
    assert "must not contain" in refused[0]["message"]


def test_a_name_is_stored_in_nfc(edge: httpx.Client, person: Person) -> None:
    changed = edge.patch(
        "/v1/users/me", json={"displayName": "Ide\u0301 Input"}, headers=person.auth
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["displayName"] == "Id\u00e9 Input"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS"])
def test_a_wrong_method_names_every_method_of_the_path(
    edge: httpx.Client, person: Person, method: str
) -> None:
    response = edge.request(method, "/v1/users/me", headers=person.auth)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH"
    assert response.json()["code"] == "method-not-allowed"


def test_a_cors_preflight_still_works(edge: httpx.Client) -> None:
    response = edge.options(
        "/v1/users/me",
        headers={"origin": "http://localhost:3000", "access-control-request-method": "PATCH"},
    )
    assert response.status_code == 204
    assert "PATCH" in response.headers["access-control-allow-methods"]
