"""The real OpenCorporates adapter against OpenCorporates' HTTP boundary
(respx), on its own and inside the running service; the settings that choose it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def registry() -> Iterator[respx.MockRouter]:
    """OpenCorporates' HTTP boundary; any other outbound call fails the test."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


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


def test_deployed_settings_refuse_a_local_registry_url() -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_OPENCORPORATES_BASE_URL must be an https"):
        Settings(  # type: ignore[arg-type]
            environment="prod",
            opencorporates_api_token="oc-key",
            opencorporates_base_url="http://localhost:9999/v0.4",
            **DEPLOYED,
        )
