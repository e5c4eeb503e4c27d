from __future__ import annotations

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.pytest_plugin import StartServices


async def test_jwks_and_service_token(
    start_services: StartServices, fleet_resources: Bootstrapped
) -> None:
    async with start_services("auth") as fleet:
        auth = fleet.client("auth")
        jwks = (await auth.get("/.well-known/jwks.json")).json()
        assert jwks["keys"][0]["kty"] == "RSA"
        ok = await auth.post(
            "/internal/auth/service-tokens",
            json={"service": "user", "secret": fleet_resources.service_secrets["user"]},
        )
        assert ok.status_code == 200, ok.text
        token = ok.json()["token"]
        assert await fleet.runtime("auth").verifier.service(token) == "user"
        bad = await auth.post(
            "/internal/auth/service-tokens", json={"service": "user", "secret": "guess"}
        )
        assert bad.status_code == 401
        assert bad.headers["content-type"] == "application/problem+json"
