"""Token and webhook attacks, as one table (``TABLE``): each row says what
is sent, to where, and the refusal it must get (status and problem ``code``).

Token rows are sent to one authenticated route of every service and to a
write (``PATCH /v1/users/me``); webhook rows name a real open object (an
unfunded escrow item, an undecided KYC session). ``run`` checks every answer
is that problem+json, then that the embedded AWS's tables are exactly as they
were ("stores nothing"), then sends the genuine delivery once (a control: the
forgeries were refused for their flaw, not for their content) and replays it,
which must be acknowledged as a duplicate and change nothing either."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from mindlinks_dev import totp
from mindlinks_dev.demo import expect, until
from mindlinks_dev.fuzz.cast import Cast, Party
from mindlinks_dev.fuzz.fleet import ONFIDO_WEBHOOK_TOKEN
from mindlinks_dev.fuzz.forgery import (
    SigningKey,
    forged_tokens,
    onfido_decision,
    onfido_headers,
    signing_key,
    stripe_event,
    stripe_signature,
    veriff_decision,
    veriff_headers,
)
from mindlinks_dev.fuzz.stored import Tables, changed
from mindlinks_dev.outside import (
    ADMIN_PASSWORD,
    AUTHENTICATED_GETS,
    PASSWORD,
    Admin,
    bearer,
    login,
    revoked,
)

PROBLEM = "application/problem+json"
STRIPE = "/v1/payments/webhooks/stripe"
VERIFF = "/v1/kyc/webhooks/veriff"
ONFIDO = "/v1/kyc/webhooks/onfido"


@dataclass(frozen=True)
class Expected:
    status: int
    code: str
    reason: str | None = None
    """``reason`` of the problem: a revoked or an expired token's."""


@dataclass
class Outcome:
    name: str
    sent: int
    failures: list[str] = field(default_factory=list)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Arsenal:
    """Everything the rows need, made once before the table runs."""

    cast: Cast
    key: SigningKey
    victim: Party
    """Tenant B's client: whose token is forged into an admin's."""
    logged_out: dict[str, str]
    suspended: dict[str, str]
    used_code: str
    escrow_item: dict[str, Any]
    """Tenant A's second schedule item: an intent not yet paid."""
    forged: dict[str, str] = field(default_factory=dict)

    @property
    def edge(self) -> httpx.Client:
        return self.cast.edge


def _token_requests(edge: httpx.Client, headers: dict[str, str]) -> list[httpx.Response]:
    sent = [edge.get(path, headers=headers) for path in AUTHENTICATED_GETS.values()]
    sent.append(edge.patch("/v1/users/me", headers=headers, json={"displayName": "Forged Admin"}))
    return sent


def forged(name: str) -> Callable[[Arsenal], list[httpx.Response]]:
    return lambda arsenal: _token_requests(arsenal.edge, bearer(arsenal.forged[name]))


def _stripe(arsenal: Arsenal, headers: dict[str, str], body: bytes) -> list[httpx.Response]:
    return [arsenal.edge.post(STRIPE, content=body, headers=headers)]


def _stripe_body(arsenal: Arsenal) -> bytes:
    item = arsenal.escrow_item
    return stripe_event(item["paymentIntentId"], item["amountMinor"], item["currency"])


def stripe_signed(offset: float | None, secret: str | None = None) -> Callable[..., Any]:
    """A Stripe event for the unpaid intent, signed ``offset`` seconds from now
    (``None``: no signature header), with ``secret`` when given."""

    def send(arsenal: Arsenal) -> list[httpx.Response]:
        body = _stripe_body(arsenal)
        headers = {"content-type": "application/json"}
        if offset is not None:
            signature = (
                stripe_signature(body, at=time.time() + offset)
                if secret is None
                else stripe_signature(body, secret, at=time.time() + offset)
            )
            headers["stripe-signature"] = signature
        return _stripe(arsenal, headers, body)

    return send


def veriff_signed(age: timedelta, secret: str | None, signed: bool = True) -> Callable[..., Any]:
    """An ``approved`` decision for the open session, decided ``age`` ago."""

    def send(arsenal: Arsenal) -> list[httpx.Response]:
        provider_id = arsenal.cast.pending_kyc.ids["provider_session_id"]
        body = veriff_decision(provider_id, "approved", _iso(datetime.now(UTC) - age))
        headers = veriff_headers(body) if secret is None else veriff_headers(body, secret)
        if not signed:
            headers = {"content-type": "application/json"}
        return [arsenal.edge.post(VERIFF, content=body, headers=headers)]

    return send


def onfido_signed(age: timedelta, token: str | None, signed: bool = True) -> Callable[..., Any]:
    def send(arsenal: Arsenal) -> list[httpx.Response]:
        provider_id = arsenal.cast.pending_kyc.ids["provider_session_id"]
        body = onfido_decision(provider_id, _iso(datetime.now(UTC) - age))
        headers = onfido_headers(body, token or ONFIDO_WEBHOOK_TOKEN)
        if not signed:
            headers = {"content-type": "application/json"}
        return [arsenal.edge.post(ONFIDO, content=body, headers=headers)]

    return send


def _replayed_mfa(arsenal: Arsenal) -> list[httpx.Response]:
    body = {"email": arsenal.cast.admin.email, "password": ADMIN_PASSWORD}
    return [arsenal.edge.post("/v1/auth/login", json={**body, "mfaCode": arsenal.used_code})]


def _suspended_login(arsenal: Arsenal) -> list[httpx.Response]:
    email = arsenal.cast.b.contractor.email
    return [arsenal.edge.post("/v1/auth/login", json={"email": email, "password": PASSWORD})]


UNAUTHORIZED = Expected(401, "unauthorized")
BAD_STRIPE = Expected(400, "invalid-signature")
BAD_KYC = Expected(401, "invalid-signature")
HOUR = timedelta(hours=1)
Row = tuple[str, Expected, Callable[[Arsenal], list[httpx.Response]]]
TABLE: list[Row] = [
    ("token: alg none", UNAUTHORIZED, forged("alg none")),
    (
        "token: algorithm confusion (HS256 keyed with the public key)",
        UNAUTHORIZED,
        forged("algorithm confusion (HS256 keyed with the public key)"),
    ),
    ("token: expired", Expected(401, "token-expired", "expired"), forged("expired")),
    ("token: wrong audience", UNAUTHORIZED, forged("wrong audience")),
    ("token: wrong issuer", UNAUTHORIZED, forged("wrong issuer")),
    ("token: tampered claims", UNAUTHORIZED, forged("tampered claims")),
    ("token: right kid, another key", UNAUTHORIZED, forged("right kid, another key")),
    (
        "token: revoked session (after logout)",
        Expected(401, "unauthorized", "revoked"),
        lambda a: _token_requests(a.edge, a.logged_out),
    ),
    (
        "token: suspended user",
        Expected(401, "unauthorized", "revoked"),
        lambda a: _token_requests(a.edge, a.suspended),
    ),
    ("login: suspended user", Expected(403, "account-suspended"), _suspended_login),
    ("login: replayed MFA code", Expected(401, "mfa-invalid"), _replayed_mfa),
    ("stripe: unsigned", BAD_STRIPE, stripe_signed(None)),
    ("stripe: wrongly signed", BAD_STRIPE, stripe_signed(0, "whsec_not_the_secret")),
    ("stripe: stale (signed 10 min ago)", BAD_STRIPE, stripe_signed(-600)),
    ("stripe: from the future (signed 10 min ahead)", BAD_STRIPE, stripe_signed(600)),
    ("stripe: replayed after the tolerance (signed 1 h ago)", BAD_STRIPE, stripe_signed(-3600)),
    ("veriff: unsigned", BAD_KYC, veriff_signed(timedelta(0), None, signed=False)),
    ("veriff: wrongly signed", BAD_KYC, veriff_signed(timedelta(0), "not-the-secret")),
    (
        "veriff: stale (decided 25 h ago)",
        Expected(400, "stale-decision"),
        veriff_signed(25 * HOUR, None),
    ),
    (
        "veriff: from the future (decided in 1 h)",
        Expected(400, "future-decision"),
        veriff_signed(-HOUR, None),
    ),
    (
        "veriff: replayed after the age limit (decided 2 days ago)",
        Expected(400, "stale-decision"),
        veriff_signed(48 * HOUR, None),
    ),
    ("onfido: unsigned", BAD_KYC, onfido_signed(timedelta(0), None, signed=False)),
    ("onfido: wrongly signed", BAD_KYC, onfido_signed(timedelta(0), "not-the-token")),
    # The local fleet cannot open Onfido sessions (no Onfido to call), so a
    # well-signed Onfido decision names no session of Onfido's and is refused
    # before its age is read; the age rules are the Veriff rows' (one shared
    # ``Kyc._decision_time``) and services/kyc/tests/test_providers.py's.
    (
        "onfido: stale (completed 25 h ago)",
        Expected(404, "unknown-provider-session"),
        onfido_signed(25 * HOUR, None),
    ),
    (
        "onfido: from the future (completed in 1 h)",
        Expected(404, "unknown-provider-session"),
        onfido_signed(-HOUR, None),
    ),
    (
        "onfido: replayed",
        Expected(404, "unknown-provider-session"),
        onfido_signed(timedelta(0), None),
    ),
]


def arm(cast: Cast) -> Arsenal:
    """Make the legitimate states the rows need: a logged-out session, a
    suspended user, a spent MFA code; wait until every service knows."""
    edge = cast.edge
    key = signing_key(json.loads((cast.run_dir / "state.json").read_text()))
    victim = cast.b.client
    tokens = login(edge, victim.email)
    logged_out = bearer(tokens["accessToken"])
    expect(
        edge.post(
            "/v1/auth/logout", json={"refreshToken": tokens["refreshToken"]}, headers=logged_out
        ),
        204,
    )
    suspended_party = cast.b.contractor
    reason = {"reason": "hostile-input suite: a suspended user's token"}
    path = f"/v1/admin/users/{suspended_party.user_id}/suspend"
    expect(edge.post(path, headers=cast.admin.headers, json=reason), 200)
    used_code = totp.code(cast.admin.secret)
    fresh = login(edge, cast.admin.email, ADMIN_PASSWORD, used_code)
    cast.admin = Admin(
        cast.admin.id, cast.admin.email, bearer(fresh["accessToken"]), cast.admin.secret
    )
    for headers in (logged_out, suspended_party.headers):
        _wait_revoked(edge, headers)
    item = cast.a.facts["schedule"][1]
    arsenal = Arsenal(cast, key, victim, logged_out, suspended_party.headers, used_code, item)
    arsenal.forged = forged_tokens(key, victim.headers["authorization"].removeprefix("Bearer "))
    return arsenal


def _wait_revoked(edge: httpx.Client, headers: dict[str, str]) -> None:
    """Until the user service (the slowest to learn, it learns by event)
    refuses the token as revoked."""
    until(lambda: revoked(edge.get("/v1/users/me", headers=headers)), "the revocation", 20)


def _judge(name: str, expected: Expected, responses: list[httpx.Response]) -> Outcome:
    outcome = Outcome(name, len(responses))
    for response in responses:
        where = f"{response.request.method} {response.request.url.path}"
        body = response.json() if response.headers.get("content-type") == PROBLEM else {}
        if (
            response.status_code != expected.status
            or response.headers.get("content-type") != PROBLEM
            or body.get("code") != expected.code
            or (expected.reason is not None and body.get("reason") != expected.reason)
        ):
            outcome.failures.append(f"{where}: {response.status_code} {response.text[:200]}")
    return outcome


def run(cast: Cast, tables: Tables, rows: list[Row] | None = None) -> list[Outcome]:
    arsenal = arm(cast)
    before = tables.quiet()
    outcomes = [_judge(name, expected, send(arsenal)) for name, expected, send in rows or TABLE]
    stored = changed(before, tables.quiet(seconds=10))
    outcomes.append(Outcome("stores nothing (every table as before)", 1, stored))
    outcomes.extend(_controls(arsenal, tables))
    return outcomes


def _controls(arsenal: Arsenal, tables: Tables) -> list[Outcome]:
    """The genuine deliveries are applied; replayed within their window they
    are acknowledged as duplicates and change nothing."""
    edge = arsenal.edge
    body = _stripe_body(arsenal)
    provider_id = arsenal.cast.pending_kyc.ids["provider_session_id"]
    decision = veriff_decision(provider_id, "approved", _iso(datetime.now(UTC)))
    failures: list[str] = []

    def stripe() -> httpx.Response:
        headers = {"content-type": "application/json", "stripe-signature": stripe_signature(body)}
        return edge.post(STRIPE, content=body, headers=headers)

    first = stripe()
    applied = edge.post(VERIFF, content=decision, headers=veriff_headers(decision))
    if first.status_code != 200 or first.json().get("outcome") != "applied":
        failures.append(f"the genuine Stripe event was not applied: {first.text[:200]}")
    if applied.status_code != 200 or applied.json().get("outcome") != "applied":
        failures.append(f"the genuine Veriff decision was not applied: {applied.text[:200]}")
    settled = tables.quiet()
    again = stripe()
    replay = edge.post(VERIFF, content=decision, headers=veriff_headers(decision))
    if again.status_code != 200 or not again.json().get("duplicate"):
        failures.append(f"a replayed Stripe event was not a duplicate: {again.text[:200]}")
    if replay.status_code != 200 or replay.json().get("outcome") != "duplicate":
        failures.append(f"a replayed Veriff decision was not a duplicate: {replay.text[:200]}")
    failures.extend(f"the replays changed {t}" for t in changed(settled, tables.quiet(seconds=10)))
    return [
        Outcome("control: genuine deliveries applied once, replays are duplicates", 4, failures)
    ]
