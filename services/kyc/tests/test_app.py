"""What the app refuses and mounts outside local mode (built, never started)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mindlinks_dev.harness import route_paths
from mindlinks_kyc.app import create
from mindlinks_kyc.settings import Settings

DEPLOYED: dict[str, Any] = {
    "cursor_secret": "a-real-secret-from-secrets-manager-0123456789",
    "resource_prefix": "mindlinks-prod-",
    "public_base_url": "https://app.mindlinks.com",
    "peer_url_template": "http://{name}.mindlinks.internal:{port}",
    "aws_endpoint_url": None,
}
VERIFF: dict[str, Any] = {"veriff_api_key": "key", "veriff_shared_secret": "secret"}
ONFIDO: dict[str, Any] = {
    "onfido_api_token": "t",
    "onfido_webhook_token": "w",
    "onfido_workflow_id": "wf",
}


def test_the_dev_routes_are_not_mounted_when_deployed() -> None:
    deployed = route_paths(create(Settings(environment="dev", **VERIFF, **DEPLOYED)))
    assert not any(path.startswith("/v1/kyc/dev") for path in deployed)
    assert {
        "/v1/kyc/sessions",
        "/v1/kyc/sessions/{session_id}",
        "/v1/kyc/sessions/{session_id}/documents",
        "/v1/kyc/me",
        "/v1/kyc/webhooks/veriff",
        "/v1/kyc/webhooks/onfido",
        "/internal/kyc/sessions/{session_id}/decision",
        "/internal/kyc/review-queue",
        "/internal/kyc/sessions",
    } <= deployed

    local = route_paths(create(Settings(environment="local")))
    assert "/v1/kyc/dev/sessions/{session_id}/decide" in local
    assert "/v1/kyc/dev/sessions/{session_id}" in local


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_no_deployed_environment_starts_without_its_provider(environment: str) -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_VERIFF_API_KEY"):
        Settings(environment=environment, **DEPLOYED)
    with pytest.raises(ValidationError, match="MINDLINKS_ONFIDO_API_TOKEN"):
        Settings(environment=environment, kyc_provider="onfido", **VERIFF, **DEPLOYED)
    Settings(environment=environment, kyc_provider="onfido", **ONFIDO, **DEPLOYED)


def test_half_configured_providers_are_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="set both MINDLINKS_VERIFF"):
        Settings(environment="local", veriff_api_key="key")
    with pytest.raises(ValidationError, match="set both MINDLINKS_ONFIDO"):
        Settings(environment="local", onfido_webhook_token="w")
    with pytest.raises(ValidationError, match="MINDLINKS_ONFIDO_WORKFLOW_ID"):
        Settings(environment="local", onfido_api_token="t", onfido_webhook_token="w")


def test_the_return_url_defaults_to_the_dashboard() -> None:
    assert Settings(public_base_url="https://app.example/").completed_url == (
        "https://app.example/kyc/complete"
    )
    assert Settings(return_url="https://x.example/done").completed_url == "https://x.example/done"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"veriff_base_url": "http://stationapi.veriff.com"}, "MINDLINKS_VERIFF_BASE_URL"),
        ({"onfido_base_url": "https://127.0.0.1:9000"}, "MINDLINKS_ONFIDO_BASE_URL"),
        ({"return_url": "http://localhost:3000/kyc/complete"}, "MINDLINKS_RETURN_URL"),
        ({"veriff_shared_secret": "local-kyc-webhook-secret"}, "MINDLINKS_VERIFF_SHARED_SECRET"),
    ],
)
def test_deployed_settings_refuse_local_provider_values(
    change: dict[str, Any], variable: str
) -> None:
    with pytest.raises(ValidationError, match=variable):
        Settings(environment="prod", **{**DEPLOYED, **VERIFF, **change})
    Settings(environment="local", **{**VERIFF, **change})
