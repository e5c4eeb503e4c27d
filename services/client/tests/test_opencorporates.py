"""The real OpenCorporates adapter against OpenCorporates' HTTP boundary
(respx), on its own and inside the running service; the settings that choose it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from mindlinks_client.app import create
from mindlinks_client.providers import RegistryUnavailable
from mindlinks_client.providers.opencorporates import OpenCorporates
from mindlinks_client.settings import Settings
from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import run_services

BASE = "https://api.opencorporates.com/v0.4"
ACME = f"{BASE}/companies/gb/12345678"
ADDRESS = {"line1": "1 Example Street", "city": "London", "postalCode": "EC1A 1AA", "country": "GB"}


def company(**overrides: Any) -> dict[str, Any]:
    """An answer shaped like OpenCorporates' documented v0.4 company response."""
    return {
        "api_version": "0.4",
        "results": {
            "company": {
                "name": "ACME WIDGETS LTD",
                "company_number": "12345678",
                "jurisdiction_code": "gb",
                "incorporation_date": "2015-03-02",
                "dissolution_date": None,
                "company_type": "Private Limited Company",
                "current_status": "Active",
                "inactive": False,
                "registered_address_in_full": "1 Example Street, London, EC1A 1AA",
                "officers": [],
                **overrides,
            }
        },
    }


def officer(name: str, position: str = "director", **overrides: Any) -> dict[str, Any]:
    """One entry of OpenCorporates' documented v0.4 officer list."""
    return {
        "officer": {
            "id": 206814999,
            "name": name,
            "position": position,
            "uid": None,
            "start_date": "2010-11-18",
            "end_date": None,
            "opencorporates_url": "https://opencorporates.com/officers/206814999",
            "occupation": "DIRECTOR",
            "inactive": None,
            "current_status": None,
            "nationality": "BRITISH",
            **overrides,
        }
    }


def officers(*entries: dict[str, Any], page: int = 1, total_pages: int = 1) -> dict[str, Any]:
    return {
        "api_version": "0.4",
        "results": {
            "page": page,
            "per_page": 100,
            "total_pages": total_pages,
            "total_count": len(entries),
            "officers": list(entries),
        },
    }


@pytest.fixture
def registry(outside: respx.MockRouter) -> respx.MockRouter:
    """OpenCorporates' HTTP boundary (the pytest plugin's ``outside``)."""
    return outside


def adapter(http: httpx.AsyncClient, fail_max: int = 5) -> OpenCorporates:
    return OpenCorporates(client=http, api_token="oc-test-token", fail_max=fail_max)


async def test_a_company_is_read_from_the_documented_shape(
    http: httpx.AsyncClient, registry: respx.MockRouter
) -> None:
    route = registry.get(ACME).mock(return_value=httpx.Response(200, json=company()))
    found = await adapter(http).company("gb", "12345678")
    assert found is not None
    assert (found.name, found.company_number, found.jurisdiction_code) == (
        "ACME WIDGETS LTD",
        "12345678",
        "gb",
    )
    assert (found.current_status, found.inactive, found.dissolution_date) == ("Active", False, None)
    assert found.registered_address == "1 Example Street, London, EC1A 1AA"
    request = route.calls.last.request
    assert request.url.params["api_token"] == "oc-test-token"
    assert request.method == "GET"


async def test_unknown_is_none_and_path_segments_are_escaped(
    http: httpx.AsyncClient, registry: respx.MockRouter
) -> None:
    route = registry.get(url__regex=rf"^{BASE}/companies/.*").mock(
        return_value=httpx.Response(404, json={"error": {"message": "Company not found"}})
    )
    assert await adapter(http).company("gb", "AB/12") is None
    assert route.calls.last.request.url.raw_path.startswith(b"/v0.4/companies/gb/AB%2F12")


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, json={"error": {"message": "Invalid Api Token"}}),
        httpx.Response(403, json={"error": {"message": "Usage limits exceeded"}}),
        httpx.Response(429),
        httpx.Response(500),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"results": {}}),
    ],
)
async def test_answers_that_say_nothing_are_unavailable(
    http: httpx.AsyncClient, registry: respx.MockRouter, answer: httpx.Response
) -> None:
    registry.get(ACME).mock(return_value=answer)
    with pytest.raises(RegistryUnavailable):
        await adapter(http).company("gb", "12345678")


async def test_outages_open_the_circuit(
    http: httpx.AsyncClient, registry: respx.MockRouter
) -> None:
    route = registry.get(ACME).mock(side_effect=httpx.ConnectTimeout("slow"))
    fragile = adapter(http, fail_max=2)
    for _ in range(2):
        with pytest.raises(RegistryUnavailable, match="ConnectTimeout"):
            await fragile.company("gb", "12345678")
    with pytest.raises(RegistryUnavailable, match="circuit open"):
        await fragile.company("gb", "12345678")
    assert route.call_count == 2


async def test_officers_are_read_from_the_documented_shape_page_by_page(
    http: httpx.AsyncClient, registry: respx.MockRouter
) -> None:
    pages = [
        officers(officer("TAGGART, Christopher"), page=1, total_pages=2),
        officers(
            officer("MCKINNON, Robert Murray", end_date="2011-03-17", inactive=True),
            officer("SMITH, Jane", "secretary"),
            page=2,
            total_pages=2,
        ),
    ]
    route = registry.get(f"{ACME}/officers").mock(
        side_effect=[httpx.Response(200, json=page) for page in pages]
    )
    found = await adapter(http).officers("gb", "12345678")
    assert found is not None
    assert [(o.name, o.position, o.current) for o in found] == [
        ("TAGGART, Christopher", "director", True),
        ("MCKINNON, Robert Murray", "director", False),
        ("SMITH, Jane", "secretary", True),
    ]
    params = [dict(call.request.url.params) for call in route.calls]
    assert params == [
        {"per_page": "100", "page": "1", "api_token": "oc-test-token"},
        {"per_page": "100", "page": "2", "api_token": "oc-test-token"},
    ]


async def test_officer_pages_are_bounded(
    http: httpx.AsyncClient, registry: respx.MockRouter
) -> None:
    route = registry.get(f"{ACME}/officers").mock(
        return_value=httpx.Response(200, json=officers(officer("A, B"), total_pages=50))
    )
    found = await adapter(http).officers("gb", "12345678")
    assert found is not None
    assert len(found) == 3
    assert route.call_count == 3


@pytest.mark.parametrize(
    "answer", [httpx.Response(404, json={"error": {"message": "Not found"}}), officers()]
)
async def test_no_officer_list(
    http: httpx.AsyncClient, registry: respx.MockRouter, answer: Any
) -> None:
    response = answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)
    registry.get(f"{ACME}/officers").mock(return_value=response)
    assert await adapter(http).officers("gb", "12345678") is None


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500),
        httpx.Response(429),
        httpx.Response(401),
        httpx.Response(200, json={"results": {"officers": [{"officer": {}}]}}),
        httpx.Response(200, text="not json"),
    ],
)
async def test_an_officer_list_that_says_nothing_is_unavailable(
    http: httpx.AsyncClient, registry: respx.MockRouter, answer: httpx.Response
) -> None:
    registry.get(f"{ACME}/officers").mock(return_value=answer)
    with pytest.raises(RegistryUnavailable):
        await adapter(http).officers("gb", "12345678")


async def test_the_service_checks_companies_at_opencorporates_when_configured(
    fleet_resources: Bootstrapped, registry: respx.MockRouter
) -> None:
    """The whole registration path with the real adapter: a match is active,
    a dissolved company is refused, an outage sends it to review."""
    from mindlinks_auth.app import create as create_auth

    settings = Settings(opencorporates_api_token="oc-configured")
    async with run_services({"auth": create_auth, "client": lambda: create(settings)}) as fleet:
        client = fleet.client("client")

        async def register(number: str) -> httpx.Response:
            owner = uuid.uuid4().hex
            return await client.post(
                "/v1/clients/register",
                headers=fleet.bearer(owner, "client"),
                json={
                    "legalName": "Acme Widgets Limited",
                    "jurisdictionCode": "gb",
                    "companyNumber": number,
                    "address": ADDRESS,
                },
            )

        active = registry.get(f"{BASE}/companies/gb/10000001").mock(
            return_value=httpx.Response(200, json=company(company_number="10000001"))
        )
        registry.get(f"{BASE}/companies/gb/10000001/officers").mock(
            return_value=httpx.Response(404)
        )
        response = await register("10000001")
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "active"
        assert response.json()["registry"]["name"] == "ACME WIDGETS LTD"
        assert active.calls.last.request.url.params["api_token"] == "oc-configured"

        registry.get(f"{BASE}/companies/gb/10000002").mock(
            return_value=httpx.Response(
                200,
                json=company(
                    company_number="10000002",
                    current_status="Dissolved",
                    inactive=True,
                    dissolution_date="2020-01-31",
                ),
            )
        )
        refused = await register("10000002")
        assert refused.status_code == 422
        assert refused.json()["code"] == "company-inactive"
        assert refused.json()["registryStatus"] == "Dissolved"

        registry.get(f"{BASE}/companies/gb/10000003").mock(return_value=httpx.Response(404))
        unknown = await register("10000003")
        assert (unknown.status_code, unknown.json()["code"]) == (422, "company-not-found")

        registry.get(f"{BASE}/companies/gb/10000004").mock(return_value=httpx.Response(503))
        review = await register("10000004")
        assert review.status_code == 201, review.text
        assert (review.json()["status"], review.json()["registry"]["reachable"]) == (
            "pending_review",
            False,
        )


async def test_the_service_checks_the_officers_at_opencorporates(
    fleet_resources: Bootstrapped, registry: respx.MockRouter
) -> None:
    """The account's name (as auth knows it) against the officer list: an
    officer is active, anyone else is held, an officer list that cannot be
    read holds the company too (what the registry said is kept)."""
    from mindlinks_auth.app import create as create_auth

    settings = Settings(opencorporates_api_token="oc-configured")
    async with run_services({"auth": create_auth, "client": lambda: create(settings)}) as fleet:
        client = fleet.client("client")

        async def register(number: str, name: str) -> httpx.Response:
            email = f"u{uuid.uuid4().hex[:16]}@example.com"
            account = await fleet.client("auth").post(
                "/v1/auth/register",
                json={
                    "email": email,
                    "password": "Correct-Horse-9-Battery",
                    "name": name,
                    "role": "client",
                },
            )
            assert account.status_code == 202, account.text
            return await client.post(
                "/v1/clients/register",
                headers=fleet.bearer(await fleet.user_id_of(email), "client"),
                json={
                    "legalName": "Acme Widgets Limited",
                    "jurisdictionCode": "gb",
                    "companyNumber": number,
                    "address": ADDRESS,
                },
            )

        listed = officers(officer("TAGGART, Christopher"), officer("SMITH, Jane", "secretary"))
        for number in ("10000011", "10000012"):
            registry.get(f"{BASE}/companies/gb/{number}").mock(
                return_value=httpx.Response(200, json=company(company_number=number))
            )
            registry.get(f"{BASE}/companies/gb/{number}/officers").mock(
                return_value=httpx.Response(200, json=listed)
            )
        officer_registers = await register("10000011", "Christopher Taggart")
        assert officer_registers.status_code == 201, officer_registers.text
        assert (officer_registers.json()["status"], officer_registers.json()["holdReasons"]) == (
            "active",
            [],
        )
        stranger = await register("10000012", "Mallory Evil")
        assert (stranger.json()["status"], stranger.json()["holdReasons"]) == (
            "pending_review",
            ["officer-not-matched"],
        )

        registry.get(f"{BASE}/companies/gb/10000013").mock(
            return_value=httpx.Response(200, json=company(company_number="10000013"))
        )
        registry.get(f"{BASE}/companies/gb/10000013/officers").mock(
            return_value=httpx.Response(502)
        )
        unread = await register("10000013", "Christopher Taggart")
        assert unread.status_code == 201, unread.text
        body = unread.json()
        assert (body["status"], body["holdReasons"]) == ("pending_review", ["registry-unreachable"])
        assert (body["registry"]["reachable"], body["registry"]["name"]) == (
            False,
            "ACME WIDGETS LTD",
        )


DEPLOYED = {
    "cursor_secret": "a-real-secret-from-secrets-manager-0123456789",
    "aws_endpoint_url": None,
    "resource_prefix": "mindlinks-prod-",
    "public_base_url": "https://app.mindlinks.com",
    "peer_url_template": "http://{name}.mindlinks.internal:{port}",
}


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_no_deployed_environment_starts_without_a_registry_token(environment: str) -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_OPENCORPORATES_API_TOKEN"):
        Settings(environment=environment, **DEPLOYED)  # type: ignore[arg-type]
    Settings(environment=environment, opencorporates_api_token="oc-key", **DEPLOYED)  # type: ignore[arg-type]


async def test_the_registry_spelling_of_the_number_is_the_one_held(
    fleet_resources: Bootstrapped, registry: respx.MockRouter
) -> None:
    """OpenCorporates answers ``7001`` with its record ``00007001``: the
    company is kept under the registry's number, so the other spelling is the
    same company and a second claim is held."""
    from mindlinks_auth.app import create as create_auth

    settings = Settings(opencorporates_api_token="oc-configured")
    async with run_services({"auth": create_auth, "client": lambda: create(settings)}) as fleet:
        for number in ("7001", "00007001"):
            registry.get(f"{BASE}/companies/gb/{number}").mock(
                return_value=httpx.Response(200, json=company(company_number="00007001"))
            )
            registry.get(f"{BASE}/companies/gb/{number}/officers").mock(
                return_value=httpx.Response(404)
            )
        answers = []
        for number in ("7001", "00007001"):
            response = await fleet.client("client").post(
                "/v1/clients/register",
                headers=fleet.bearer(uuid.uuid4().hex, "client"),
                json={
                    "legalName": "Acme Widgets Ltd",
                    "jurisdictionCode": "gb",
                    "companyNumber": number,
                    "address": ADDRESS,
                },
            )
            assert response.status_code == 201, response.text
            answers.append(response.json())
        assert [a["companyNumber"] for a in answers] == ["00007001", "00007001"]
        assert [a["status"] for a in answers] == ["active", "pending_review"]
        assert answers[1]["holdReasons"] == ["number-already-registered"]


def test_deployed_settings_refuse_a_local_registry_url() -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_OPENCORPORATES_BASE_URL must be an https"):
        Settings(  # type: ignore[arg-type]
            environment="prod",
            opencorporates_api_token="oc-key",
            opencorporates_base_url="http://localhost:9999/v0.4",
            **DEPLOYED,
        )
