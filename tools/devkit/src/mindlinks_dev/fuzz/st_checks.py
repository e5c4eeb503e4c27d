"""Schemathesis checks of our own (loaded with ``SCHEMATHESIS_HOOKS``), and
the one list of schema-valid requests a business rule may still refuse.

- ``errors_are_problem_json``: every 4xx and 5xx is RFC 9457 problem+json.
- ``schema_valid_requests_are_accepted``: schemathesis's positive-data
  acceptance (``ST202``), except for the refusals ``ALLOWED_REFUSALS`` lists,
  each a rule a JSON Schema cannot state, with its reason. Everything else a
  generated client may send must not get ``400``/``413``/``415``/``422``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis import CheckContext, Response
from schemathesis.core.failures import Failure

PROBLEM = "application/problem+json"

# The public verify-by-upload takes the PDF itself as its body: sent as the
# raw bytes schemathesis generates for any binary body.
schemathesis.serializer.alias("application/pdf", "application/octet-stream")
REFUSALS = (400, 413, 415, 422)


@dataclass(frozen=True)
class Allowed:
    code: str
    reason: str
    error_type: str | None = None
    """For ``invalid-input``: the pydantic error ``type`` that may appear
    (every error of the refusal must be of this type)."""
    field: str | None = None
    """... and the field (the last part of the error's location) it names."""


ANY = "*"
CURSOR = Allowed(
    "invalid-cursor",
    "a cursor is the signed nextCursor of the same list: its HMAC is not a pattern",
)
MAIL_DOMAIN = Allowed(
    "invalid-input",
    "special-use and reserved mail domains (RFC 6761: .test, .invalid, .localhost...) "
    "receive no mail",
    "value_error",
    "email",
)
ALLOWED_REFUSALS: dict[tuple[str, str], list[Allowed]] = {
    (ANY, ANY): [
        CURSOR,
        Allowed(
            "idempotency-key-reused",
            "an Idempotency-Key names one request: sent again with another body, it is refused",
        ),
    ],
    ("GET", "/v1/admin/payments/transactions"): [
        Allowed(
            "stuck-excludes-status",
            "a rule across query parameters: stuck=true lists every unsettled status",
        ),
    ],
    ("GET", "/v1/payments/transactions"): [
        Allowed(
            "contract-id-required",
            "a rule by role: admins list one contract's transactions (a schema has no roles)",
        ),
    ],
    ("POST", "/v1/auth/reset-password"): [
        Allowed("invalid-token", "the token is the one mailed; it cannot be generated"),
        Allowed("weak-password", "password strength beyond its length"),
    ],
    ("POST", "/v1/auth/verify-email"): [
        Allowed("invalid-token", "the token is the one mailed; it cannot be generated"),
    ],
    ("POST", "/v1/auth/step-up"): [
        Allowed(
            "step-up-code-invalid",
            "the code is the one mailed or the authenticator app's; it cannot be generated",
        ),
    ],
    ("POST", "/v1/auth/refresh"): [
        Allowed("invalid-token", "a refresh token is one auth issued; it cannot be generated"),
    ],
    ("POST", "/v1/payments/webhooks/stripe"): [
        Allowed("invalid-signature", "Stripe's HMAC signature over the body"),
        Allowed("invalid-webhook-payload", "a body Stripe's SDK does not read as an event"),
    ],
    ("POST", "/v1/kyc/webhooks/veriff"): [
        Allowed("malformed-webhook", "the signature is checked first; a body is never reached"),
    ],
    ("POST", "/v1/kyc/webhooks/onfido"): [
        Allowed("malformed-webhook", "the signature is checked first; a body is never reached"),
    ],
    ("GET", "/v1/ledger/consistency"): [
        Allowed("tree-size-out-of-range", "bounds that depend on the journal's size"),
    ],
    ("GET", "/v1/ledger/entries/{seq}/proof"): [
        Allowed("tree-size-out-of-range", "bounds that depend on the journal's size"),
    ],
    ("POST", "/v1/ledger/verify"): [
        Allowed("invalid-pdf", "the bytes must be a PDF the contract's entries name"),
    ],
    ("PATCH", "/v1/users/me"): [
        Allowed(
            "invalid-input",
            "an IANA time zone: the list depends on the tzdata release",
            "value_error",
            "timezone",
        ),
    ],
    ("PUT", "/v1/users/me/preferences"): [
        Allowed(
            "invalid-input",
            "an IANA time zone: the list depends on the tzdata release",
            "value_error",
            "timezone",
        ),
    ],
    ("POST", "/v1/clients/invite-contractor"): [MAIL_DOMAIN],
    ("POST", "/v1/clients/me/member-invitations"): [MAIL_DOMAIN],
    ("GET", "/v1/payments/invoices"): [
        Allowed(
            "contract-id-required",
            "a rule by role: admins list one contract's invoices (a schema has no roles)",
        ),
    ],
    ("POST", "/v1/admin/escrow/{escrow_id}/resolution"): [
        Allowed(
            "invalid-split",
            "a rule across fields and against the item: releasedMinor goes with a split "
            "only, and below the item's amount",
        ),
    ],
    ("POST", "/v1/auth/register"): [
        Allowed("weak-password", "password strength beyond its length (character classes)"),
        MAIL_DOMAIN,
    ],
    ("PUT", "/v1/contractors/me/bank-details"): [
        Allowed(
            "invalid-input",
            "a rule across fields: an IBAN, or an account number with a routing number or a "
            "sort code",
            "value_error",
        ),
    ],
    ("POST", "/v1/admin/events/dead-letters/replay"): [
        Allowed("invalid-input", "a rule across fields: messageIds or all: true", "value_error"),
    ],
    ("POST", "/v1/clients/register"): [
        Allowed("company-not-found", "a registry look-up (OpenCorporates)"),
    ],
    ("POST", "/v1/contracts"): [
        Allowed(
            "invalid-input",
            "rules across fields: due dates within the contract, milestones in date order",
            "value_error",
        ),
    ],
    ("POST", "/v1/notifications/webhooks"): [
        Allowed(
            "webhook-url-refused",
            "the address rules: https outside local mode, a host that is not private, "
            "loopback, link-local or reserved (issue 16)",
        ),
    ],
    ("PATCH", "/v1/notifications/webhooks/{endpoint_id}"): [
        Allowed("webhook-url-refused", "the same address rules as on creation"),
    ],
    ("POST", "/v1/notifications/webhooks/{endpoint_id}/replay"): [
        Allowed("webhook-replay-range-invalid", "a rule across fields: until after since"),
    ],
    ("PATCH", "/v1/contracts/{contract_id}"): [
        Allowed(
            "invalid-input",
            "a rule across fields: at least one of the terms to change besides the version",
            "value_error",
        ),
    ],
    ("POST", "/v1/contracts/{contract_id}/amendments"): [
        Allowed(
            "invalid-input",
            "rules across fields: something to change; endDate or removeEndDate, not both",
            "value_error",
        ),
        Allowed(
            "amendment-changes-nothing",
            "against the terms in force: the same scope, end date and schedule (issue 16)",
        ),
        Allowed(
            "amendment-dates-invalid",
            "against the contract: due dates between its start and its end date (issue 16)",
        ),
    ],
    ("POST", "/v1/contracts/{contract_id}/signing-deadline"): [
        Allowed(
            "invalid-signing-deadline",
            "bounds against the contract and the clock: later than its current deadline, "
            "in the future, at most 90 days away (issue 16)",
        ),
    ],
}
"""(method, path template) → the refusals a schema-valid request may get.
``(ANY, ANY)`` applies to every operation."""


def problem_of(response: Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def allowance(method: str, path: str, problem: dict[str, Any]) -> Allowed | None:
    """The entry that allows this refusal, if any."""
    candidates = ALLOWED_REFUSALS.get((ANY, ANY), []) + ALLOWED_REFUSALS.get(
        (method.upper(), path), []
    )
    # A refused optional field also reports its ``None`` branch: not a reason.
    errors = [e for e in problem.get("errors") or [] if e.get("type") != "none_required"]
    for allowed in candidates:
        if allowed.code != problem.get("code"):
            continue
        if allowed.error_type is None:
            return allowed
        if errors and all(
            e.get("type") == allowed.error_type
            and (allowed.field is None or allowed.field in map(str, e.get("location", [])))
            for e in errors
        ):
            return allowed
    return None


def _content_type(response: Response) -> str:
    values = response.headers.get("content-type") or []
    value = values[0] if isinstance(values, list) and values else values
    return str(value or "").split(";")[0].strip()


class NotProblemJson(Failure):
    code = "ST901"
    kind_title = "Error response is not problem+json"

    def __init__(self, operation: str, status: int, content_type: str) -> None:
        super().__init__(
            operation=operation,
            message=f"{status} answered with content type {content_type!r}, not {PROBLEM}",
        )


class RefusedSchemaValid(Failure):
    code = "ST902"
    kind_title = "Schema-valid request refused (not an allowed business rule)"

    def __init__(self, operation: str, status: int, problem: dict[str, Any]) -> None:
        errors = json.dumps(problem.get("errors", []))[:400]
        super().__init__(
            operation=operation,
            message=f"{status} {problem.get('code')}: {problem.get('detail')} {errors}",
        )


@schemathesis.check
def errors_are_problem_json(ctx: CheckContext, response: Response, case: Any) -> bool | None:
    if response.status_code >= 400 and _content_type(response) != PROBLEM:
        raise NotProblemJson(case.operation.label, response.status_code, _content_type(response))
    return None


@schemathesis.check
def schema_valid_requests_are_accepted(
    ctx: CheckContext, response: Response, case: Any
) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in REFUSALS:
        return None
    problem = problem_of(response)
    if allowance(case.operation.method, case.operation.path, problem) is None:
        raise RefusedSchemaValid(case.operation.label, response.status_code, problem)
    return None
