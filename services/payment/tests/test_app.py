"""Configuration: Stripe is required when deployed; local-only routes exist
only in local mode."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mindlinks_dev.harness import route_paths
from mindlinks_payment.app import create
from mindlinks_payment.settings import LOCAL_WEBHOOK_SECRET, Settings

DEPLOYED: dict[str, Any] = {
    "environment": "prod",
    "cursor_secret": "a-real-cursor-secret-from-secrets-manager",
    "resource_prefix": "mindlinks-prod-",
    "public_base_url": "https://app.mindlinks.com",
    "peer_url_template": "http://{name}.mindlinks.internal:{port}",
    "aws_endpoint_url": None,  # the test session points every app at moto
    "port_offset": 0,
}
DEV_ROUTES = {
    "/v1/payments/dev/intents/{intent_id}/succeed",
    "/v1/payments/dev/intents/{intent_id}/fail",
    "/v1/payments/dev/accounts/{account_id}/onboard",
}
ROUTES = {
    "/v1/payments/contracts/{contract_id}/schedule",
    "/v1/payments/transactions",
    "/v1/payments/escrow/{escrow_id}/release",
    "/v1/payments/payout-account",
    "/v1/payments/webhooks/stripe",
    "/internal/payments/transactions",
    "/internal/payments/escrow",
    "/internal/payments/transactions/{transaction_id}/flag",
}


def test_deployed_settings_need_stripe_keys() -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_STRIPE_API_KEY"):
        Settings(**DEPLOYED)
    with pytest.raises(ValidationError, match="MINDLINKS_STRIPE_WEBHOOK_SECRET"):
        Settings(**DEPLOYED, stripe_api_key="sk_live_x")
    settings = Settings(**DEPLOYED, stripe_api_key="sk_live_x", stripe_webhook_secret="whsec_x")
    assert settings.webhook_secret == "whsec_x"


def test_a_key_needs_its_webhook_secret_locally_too() -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_STRIPE_WEBHOOK_SECRET"):
        Settings(stripe_api_key="sk_test_x")
    assert Settings().webhook_secret == LOCAL_WEBHOOK_SECRET


def test_dev_routes_exist_only_in_local_mode() -> None:
    deployed = route_paths(
        create(Settings(**DEPLOYED, stripe_api_key="sk_live_x", stripe_webhook_secret="whsec_x"))
    )
    assert deployed >= ROUTES
    assert not {p for p in deployed if "/dev/" in p}
    local = route_paths(create(Settings(environment="test")))
    assert local >= ROUTES | DEV_ROUTES


def test_deployed_settings_refuse_the_local_webhook_secret_and_no_tolerance() -> None:
    keys: dict[str, Any] = {"stripe_api_key": "sk_live_x"}
    with pytest.raises(ValidationError, match=r"MINDLINKS_STRIPE_WEBHOOK_SECRET must be set \(not"):
        Settings(**DEPLOYED, **keys, stripe_webhook_secret=LOCAL_WEBHOOK_SECRET)
    for tolerance in (0, 3601):  # 0 would switch Stripe's age check off
        with pytest.raises(ValidationError, match="webhook_tolerance_seconds"):
            Settings(webhook_tolerance_seconds=tolerance)
