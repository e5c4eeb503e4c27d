"""Smoke tests of a deployed environment, through its public edge only.

    python -m mindlinks_dev.deploy.smoke https://api.staging.mindlinks.com --service user
    python -m mindlinks_dev.deploy.smoke https://api.staging.mindlinks.com

With ``--service`` (infra/scripts/deploy-service.sh, while that service's
blue/green deployment bakes) the one service is tested: its area answers, its
read route refuses an anonymous caller with the service's own problem+json
(not the edge's 404), and a smoke account signed in through auth reads through
it — a real token checked by the service and an answer from its data (or, for
signature, from its peer's). Exit 1: the service failed, and the script rolls
that service back and no other. Exit 2: the smoke account could not sign in
while another service was tested — auth is in doubt, not this service — so
nothing is rolled back and the job fails for a human to look.

Without ``--service`` (the deploy workflow's verify job, after every service
is out): the edge — auth publishes its JWKS; internal and health routes are
never reachable from the internet; every area answers and refuses anonymous
reads. No account is needed.

The smoke accounts are an ordinary client and contractor of the environment,
read from ``MINDLINKS_SMOKE_CLIENT_EMAIL``/``..._PASSWORD`` and
``MINDLINKS_SMOKE_CONTRACTOR_EMAIL``/``..._PASSWORD`` (GitHub environment
secrets). The admin area's reads need an admin with a second factor, which the
pipeline does not hold: there a client's real token must be refused (403).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Fleet, Service

PROBLEM_JSON = "application/problem+json"
UNKNOWN_ID = "smoke0000000000000000000000000000"
"""A well-formed id that names nothing."""
SIGN_IN_ATTEMPTS = 3
SIGN_IN_PAUSE = 10.0
"""Seconds between sign-in attempts: auth may be mid-rollout itself."""
ROLES = ("client", "contractor")


@dataclass(frozen=True)
class Read:
    """A service's read through the public API, as a smoke account."""

    role: str
    path: str
    fields: tuple[str, ...] = ()
    """Keys a 200 answer carries."""
    problems: tuple[str, ...] = ()
    """Problem codes that also prove the read: the service looked and found nothing."""
    refused: bool = False
    """The smoke roles may not read here: the answer is the service's 403."""


READS: Mapping[str, Read] = {
    "auth": Read("client", "/v1/auth/me", fields=("id", "email", "role")),
    "user": Read("client", "/v1/users/me", fields=("userId", "email")),
    "client": Read("client", "/v1/clients/me", fields=("id",), problems=("company-required",)),
    "contractor": Read(
        "contractor", "/v1/contractors/me", fields=("id",), problems=("contractor-not-onboarded",)
    ),
    "kyc": Read("contractor", "/v1/kyc/me", fields=("status",)),
    "contract": Read("client", "/v1/contracts", fields=("items",)),
    "signature": Read(
        "client", f"/v1/signatures/contracts/{UNKNOWN_ID}", problems=("contract-not-found",)
    ),
    "ledger": Read("client", "/v1/ledger/digest", fields=("treeSize", "rootHash")),
    "payment": Read("client", "/v1/payments/transactions", fields=("items",)),
    "notification": Read("client", "/v1/notifications/me", fields=("items",)),
    "admin": Read("client", "/v1/admin/users", refused=True),
}


@dataclass(frozen=True)
class Account:
    email: str
    password: str


def accounts_from(environ: Mapping[str, str]) -> dict[str, Account]:
    """The smoke accounts the environment variables name (a role without both
    variables has none)."""
    found = {}
    for role in ROLES:
        email = environ.get(f"MINDLINKS_SMOKE_{role.upper()}_EMAIL", "")
        password = environ.get(f"MINDLINKS_SMOKE_{role.upper()}_PASSWORD", "")
        if email and password:
            found[role] = Account(email, password)
    return found


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    """The tested service (or the edge) is broken."""
    inconclusive: list[str] = field(default_factory=list)
    """Something the test depends on failed: nothing is known about the service."""

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 2 if self.inconclusive else 0


def _answer(response: httpx.Response) -> str:
    """The status, and the problem code if the service rendered one."""
    code = _problem_code(response)
    return f"{response.status_code} {code}" if code else str(response.status_code)


def _problem_code(response: httpx.Response) -> str | None:
    """The ``code`` of a problem+json body the service itself rendered (the
    edge's own 404 carries none)."""
    if not response.headers.get("content-type", "").startswith(PROBLEM_JSON):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def anonymous_problems(client: httpx.Client, service: Service) -> list[str]:
    """The service answers behind its area and refuses an anonymous read itself."""
    found = []
    response = client.get(f"/v1/{service.area}/smoke-test-unknown-route")
    if response.status_code >= 500:
        found.append(f"{service.name} (/v1/{service.area}): {response.status_code}")
    read = READS.get(service.name)
    if read is not None:
        anonymous = client.get(read.path)
        if anonymous.status_code != 401 or _problem_code(anonymous) != "unauthorized":
            found.append(
                f"{service.name}: GET {read.path} without a token: {anonymous.status_code} "
                f"{anonymous.headers.get('content-type')} (want the service's 401 problem)"
            )
    return found


def edge_problems(client: httpx.Client, fleet: Fleet = FLEET) -> list[str]:
    """What holds for the whole edge, without an account."""
    found = jwks_problems(client)
    for path in ("/internal/service-tokens", "/health/ready", "/v1/../internal/status"):
        response = client.get(path)
        if response.status_code not in (403, 404):
            found.append(f"{path} reachable from the edge: {response.status_code}")
    for service in fleet.services:
        found += anonymous_problems(client, service)
    return found


def jwks_problems(client: httpx.Client) -> list[str]:
    jwks = client.get("/.well-known/jwks.json")
    try:
        keys = jwks.json().get("keys") if jwks.status_code == 200 else None
    except ValueError:
        keys = None
    return [] if keys else [f"JWKS: {jwks.status_code}"]


def sign_in(
    client: httpx.Client,
    account: Account,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """An access token for the account (``RuntimeError`` saying why not).
    Transport errors and 5xx/429 answers are retried; a refusal is not."""
    last = ""
    for attempt in range(SIGN_IN_ATTEMPTS):
        if attempt:
            sleep(SIGN_IN_PAUSE)
        try:
            response = client.post(
                "/v1/auth/login", json={"email": account.email, "password": account.password}
            )
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code == 200:
            token = response.json().get("accessToken")
            if isinstance(token, str) and token:
                return token
            last = "200 without an accessToken"
            break
        last = _answer(response)
        if response.status_code < 500 and response.status_code != 429:
            break
    raise RuntimeError(f"sign-in as {account.email} failed: {last}")


def read_problems(client: httpx.Client, service: str, token: str) -> list[str]:
    """The service's read, signed in: the answer its ``Read`` promises."""
    read = READS[service]
    response = client.get(read.path, headers={"authorization": f"Bearer {token}"})
    code = _problem_code(response)
    where = f"{service}: GET {read.path} as the smoke {read.role}"
    if read.refused:
        if response.status_code == 403 and code == "forbidden":
            return []
        return [f"{where}: {_answer(response)} (want the service's 403)"]
    if response.status_code == 200:
        try:
            body = response.json()
        except ValueError:
            return [f"{where}: 200 without JSON"]
        missing = [key for key in read.fields if not isinstance(body, dict) or key not in body]
        return [f"{where}: 200 without {missing}"] if missing else []
    if code is not None and code in read.problems:
        return []
    return [f"{where}: {_answer(response)}"]


def service_report(
    client: httpx.Client,
    service: Service,
    accounts: Mapping[str, Account],
    reads: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """One service, as deploy-service.sh tests it while it bakes."""
    report = Report(problems=anonymous_problems(client, service))
    if service.name == "auth":
        report.problems += jwks_problems(client)
    read = READS.get(service.name)
    if read is None:
        report.problems.append(f"{service.name}: no smoke read declared (smoke.READS)")
        return report
    if not reads:
        return report
    account = accounts.get(read.role)
    if account is None:
        variable = f"MINDLINKS_SMOKE_{read.role.upper()}_EMAIL/_PASSWORD"
        report.problems.append(f"{service.name}: no smoke {read.role} account ({variable})")
        return report
    try:
        token = sign_in(client, account, sleep=sleep)
    except RuntimeError as exc:
        # Signing in is auth's work: only auth's own test blames the service.
        (report.problems if service.name == "auth" else report.inconclusive).append(str(exc))
        return report
    report.problems += read_problems(client, service.name, token)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mindlinks_dev.deploy.smoke")
    parser.add_argument("base_url")
    parser.add_argument("--service", help="test this service only (exit 2: inconclusive)")
    parser.add_argument(
        "--no-reads",
        action="store_true",
        help="skip the signed-in read (an environment whose smoke accounts do not exist yet)",
    )
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    services = {s.name: s for s in FLEET.services}
    if args.service is not None and args.service not in services:
        parser.error(f"unknown service {args.service}")
    with httpx.Client(base_url=args.base_url, timeout=args.timeout) as client:
        if args.service is None:
            report = Report(problems=edge_problems(client))
        else:
            if args.no_reads:
                print(
                    f"smoke: {args.service}: signed-in read SKIPPED (--no-reads)", file=sys.stderr
                )
            report = service_report(
                client, services[args.service], accounts_from(os.environ), reads=not args.no_reads
            )
    for problem in report.problems:
        print(f"smoke: {problem}", file=sys.stderr)
    for doubt in report.inconclusive:
        print(f"smoke: inconclusive: {doubt}", file=sys.stderr)
    what = args.service or "edge"
    outcome = {0: "ok", 1: f"{len(report.problems)} problem(s)", 2: "inconclusive"}
    print(f"smoke: {what}: {outcome[report.exit_code]}")
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
