"""Smoke tests of a deployed environment, through its public edge only.

    python -m mindlinks_dev.deploy.smoke https://api.staging.mindlinks.com

Run by the deploy workflow while a blue/green deployment bakes: a failure
makes the workflow roll the deployment back. Checks what must hold in every
environment without an account: auth publishes its JWKS; a protected route
refuses an anonymous caller with problem+json; internal and health routes are
never reachable from the internet; every service answers behind its area.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import httpx

from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Fleet

PROBLEM_JSON = "application/problem+json"


def smoke(client: httpx.Client, fleet: Fleet = FLEET) -> list[str]:
    """Problems found (empty: healthy)."""
    found: list[str] = []
    jwks = client.get("/.well-known/jwks.json")
    if jwks.status_code != 200 or not jwks.json().get("keys"):
        found.append(f"JWKS: {jwks.status_code}")
    me = client.get("/v1/users/me")
    if me.status_code != 401 or not me.headers.get("content-type", "").startswith(PROBLEM_JSON):
        found.append(
            f"/v1/users/me without a token: {me.status_code} {me.headers.get('content-type')}"
        )
    for path in ("/internal/service-tokens", "/health/ready", "/v1/../internal/status"):
        response = client.get(path)
        if response.status_code not in (403, 404):
            found.append(f"{path} reachable from the edge: {response.status_code}")
    for service in fleet.services:
        response = client.get(f"/v1/{service.area}/smoke-test-unknown-route")
        if response.status_code >= 500:
            found.append(f"{service.name} (/v1/{service.area}): {response.status_code}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mindlinks_dev.deploy.smoke")
    parser.add_argument("base_url")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    with httpx.Client(base_url=args.base_url, timeout=args.timeout) as client:
        problems = smoke(client)
    for problem in problems:
        print(f"smoke: {problem}", file=sys.stderr)
    print("smoke: ok" if not problems else f"smoke: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
