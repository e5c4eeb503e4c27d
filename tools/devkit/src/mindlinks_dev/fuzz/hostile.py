"""Hostile bytes: oversized bodies, deeply nested JSON, an upload larger than
the KYC rules admit, path tricks in every object id, and control, bidi and
line-break characters in every text field of every request body (read from
``docs/openapi.json``). Each must get a clear ``4xx`` problem+json, and the
embedded AWS must hold afterwards exactly what it held before.

Injection strings (SQL, NoSQL, template, script, log-forging) are printable
text, so a text field may take them: they must come back byte for byte as
sent (never evaluated, never a ``5xx``), which ``inert_text`` checks on the
fields another party sees rendered (profile names, contract titles)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mindlinks_dev.catalog import PublicRoute
from mindlinks_dev.fuzz.cast import Cast
from mindlinks_dev.fuzz.matrix import admitted, parameters
from mindlinks_dev.fuzz.stored import Tables, changed
from mindlinks_dev.openapi import repo_root

PROBLEM = "application/problem+json"
BAD_TEXT = {"NUL": "Ada\x00", "bidi override": "Ada\u202etxt.exe", "line break": "Ada\nByron"}
"""Refused in every one-line text field; multi-line fields take the line break."""
PATH_TRICKS = [
    "..%2F..%2Finternal%2Fops",
    "%2e%2e%2f%2e%2e%2finternal",
    "a%2Fb",
    "%252e%252e%252f",
    "a%00b",
    "%00",
    "a%0d%0aSet-Cookie:%20x=1",
    "%C0%AE%C0%AE",
    "%FF%FE",
    "a;b=c",
    "a" * 65,
    "{{7*7}}",
    "' OR '1'='1",
]
INJECTIONS = [
    "Robert'); DROP TABLE users;--",
    '{"$gt": ""}',
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
]
SESSION_ENDING = ("/v1/auth/logout", "/v1/auth/mfa/")
"""Left out: they end or change the caller's own session (their fields are a
refresh token and six-digit codes, compared and never stored or shown)."""
OPAQUE = {
    ("POST", "/v1/auth/forgot-password", "email"): "an address as typed: always 202, so the "
    "answer never tells who has an account; compared, never stored",
    ("POST", "/v1/auth/verify-email/resend", "email"): "as forgot-password",
    ("POST", "/v1/clients/register", "companyNumber"): "white space (a line break too) is "
    "removed and letters upper-cased before the check, as registries write numbers",
}
"""Fields that do not refuse every bad character, by design, each with its
reason; what they get must still store nothing."""
OVERSIZED_BYTES = 12 * 1024 * 1024
"""Above API Gateway's 10 MB payload limit: what only the services would see
if something in front let it through."""


@dataclass
class Finding:
    name: str
    sent: int = 0
    failures: list[str] = field(default_factory=list)


def _schemas() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (repo_root(Path.cwd()) / "docs" / "openapi.json").read_text()
    )
    return document


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


Const = tuple[tuple[str, ...], str, Any]
"""A property an object along a field's path must have, to be read at all
(a discriminator such as ``kind: "milestones"``): (object path, name, value)."""


def text_fields(
    document: dict[str, Any],
    schema: Any,
    path: tuple[str, ...] = (),
    depth: int = 0,
    consts: tuple[Const, ...] = (),
) -> Iterator[tuple[tuple[str, ...], dict[str, Any], tuple[Const, ...]]]:
    """Every free-form string property of a request body (not an enum or a
    constant), with its JSON path (array items as ``0``) and the constants
    of the objects it sits in."""
    schema = _resolve(document, schema)
    if depth > 5 or not isinstance(schema, dict):
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from text_fields(document, option, path, depth + 1, consts)
    if schema.get("type") == "string" and "enum" not in schema and "const" not in schema:
        yield path, schema, consts
    properties = schema.get("properties", {})
    here = tuple(
        (path, name, sub["const"])
        for name, sub in ((n, _resolve(document, p)) for n, p in properties.items())
        if isinstance(sub, dict) and "const" in sub
    )
    for name, sub in properties.items():
        yield from text_fields(document, sub, (*path, name), depth + 1, consts + here)
    if schema.get("type") == "array":
        yield from text_fields(document, schema.get("items", {}), (*path, "0"), depth + 1, consts)


def _body(location: tuple[str, ...], value: Any, consts: tuple[Const, ...]) -> Any:
    body = _nest(location, value)
    for where, name, constant in consts:
        target = body
        for part in where:
            target = target[0] if part == "0" else target[part]
        target[name] = constant
    return body


def _nest(path: tuple[str, ...], value: Any) -> Any:
    for part in reversed(path):
        value = [value] if part == "0" else {part: value}
    return value


def _role(route_who: set[str]) -> str:
    for role in ("client", "contractor", "admin", "anonymous"):
        if role in route_who:
            return role
    return "anonymous"


def _path(route_path: str, cast: Cast, role: str, tricks: dict[str, str] | None = None) -> str:
    ids = {**cast.a.client.ids, **cast.a.contractor.ids}
    for name in parameters_of(route_path):
        value = (tricks or {}).get(name) or ids.get(name) or uuid.uuid4().hex
        route_path = route_path.replace(f"{{{name}}}", value)
    return route_path


def parameters_of(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def names(error_location: list[Any], field_path: tuple[str, ...]) -> bool:
    """Whether a 422's error location names the field: its path in order, with
    pydantic's union members (``AddressIn``) in between."""
    parts = iter(str(p) for p in error_location[1:])
    return all(any(part == wanted for part in parts) for wanted in field_path)


def _bad(response: httpx.Response, what: str) -> str | None:
    status = response.status_code
    if not 400 <= status < 500:
        return f"{what}: {status} {response.text[:160]}"
    if response.headers.get("content-type") != PROBLEM:
        return f"{what}: {status} is not problem+json"
    return None


def control_characters(cast: Cast, routes: list[PublicRoute]) -> Finding:
    """Every text field of every body, with each bad character: 422 naming the
    field when the field has a text pattern, a 4xx in any case."""
    finding = Finding("control and bidi characters in every text field")
    document = _schemas()
    who = {(r.method, r.path): admitted(r) for r in routes}
    for path, operations in document["paths"].items():
        if path.startswith(SESSION_ENDING):
            continue
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None or (method.upper(), path) not in who:
                continue
            role = _role(who[(method.upper(), path)])
            for location, field_schema, consts in text_fields(document, schema):
                pattern = field_schema.get("pattern", "")
                for label, bad in BAD_TEXT.items():
                    if label == "line break" and "\\x0b" in pattern:
                        continue  # multi-line text takes line breaks
                    response = cast.edge.request(
                        method.upper(),
                        _path(path, cast, role),
                        headers=cast.headers(role) | {"idempotency-key": uuid.uuid4().hex},
                        json=_body(location, bad, consts),
                    )
                    finding.sent += 1
                    what = f"{method.upper()} {path} {'.'.join(location)} ({label})"
                    opaque = (method.upper(), path, ".".join(location)) in OPAQUE
                    failure = None if opaque else _bad(response, what)
                    if not opaque and failure is None and pattern and response.status_code == 422:
                        named = [
                            e
                            for e in response.json().get("errors", [])
                            if names(e["location"], location)
                        ]
                        if not named:
                            failure = f"{what}: the 422 does not name the field"
                    if failure:
                        finding.failures.append(failure)
    return finding


def path_tricks(cast: Cast, routes: list[PublicRoute]) -> Finding:
    finding = Finding("path tricks in every object id")
    for route in routes:
        names = parameters(route)
        if route.local_only or not names or route.method != "GET":
            continue
        role = _role(admitted(route))
        for trick in PATH_TRICKS:
            url = _path(route.path, cast, role, dict.fromkeys(names, trick))
            response = cast.edge.get(url, headers=cast.headers(role))
            finding.sent += 1
            failure = _bad(response, f"GET {route.path} with {trick!r}")
            if failure:
                finding.failures.append(failure)
    return finding


def big_inputs(cast: Cast) -> Finding:
    """An oversized body, deep JSON (arrays and objects), an upload above the
    KYC size limit and an unsupported upload type."""
    finding = Finding("oversized bodies, deep JSON, huge uploads")
    client = cast.a.client.headers | {"content-type": "application/json"}
    contractor = cast.pending_kyc.headers
    session = cast.pending_kyc.ids["session_id"]
    oversized = b'{"displayName":"' + b"a" * OVERSIZED_BYTES + b'"}'
    cases: list[tuple[str, str, str, dict[str, str], bytes | None, Any]] = [
        ("PATCH", "/v1/users/me", "a 12 MB body", client, oversized, None),
        ("PATCH", "/v1/users/me", "arrays 100 000 deep", client, b"[" * 100_000, None),
        (
            "POST",
            "/v1/contracts",
            "objects 20 000 deep",
            client,
            (b'{"a":' * 20_000) + b"1" + b"}" * 20_000,
            None,
        ),
        (
            "POST",
            "/v1/payments/webhooks/stripe",
            "deep JSON to a webhook",
            {"content-type": "application/json", "stripe-signature": "t=1,v1=00"},
            b"[" * 100_000 + b"]" * 100_000,
            None,
        ),
        (
            "POST",
            f"/v1/kyc/sessions/{session}/documents",
            "an 11 MB document",
            contractor,
            None,
            {"kind": "passport", "contentType": "image/png", "size": 11 * 1024 * 1024},
        ),
        (
            "POST",
            f"/v1/kyc/sessions/{session}/documents",
            "an executable document",
            contractor,
            None,
            {"kind": "passport", "contentType": "application/x-msdownload", "size": 1024},
        ),
        (
            "POST",
            f"/v1/kyc/sessions/{session}/documents",
            "an empty document",
            contractor,
            None,
            {"kind": "passport", "contentType": "image/png", "size": 0},
        ),
    ]
    for method, path, what, headers, raw, body in cases:
        response = cast.edge.request(method, path, headers=headers, content=raw, json=body)
        finding.sent += 1
        failure = _bad(response, f"{method} {path}: {what}")
        if failure:
            finding.failures.append(failure)
    finding.failures.extend(_oversized_upload(cast))
    finding.sent += 1
    return finding


def _oversized_upload(cast: Cast) -> list[str]:
    """The presigned POST admits exactly the declared type and size: its
    policy says so (S3 enforces a policy; the embedded AWS does not)."""
    session = cast.pending_kyc.ids["session_id"]
    size = 2048
    grant = cast.edge.post(
        f"/v1/kyc/sessions/{session}/documents",
        headers=cast.pending_kyc.headers,
        json={"kind": "passport", "contentType": "image/png", "size": size},
    )
    if grant.status_code not in (200, 201):
        return [f"no upload grant: {grant.status_code} {grant.text[:160]}"]
    fields = grant.json()["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    wanted = [["content-length-range", size, size], {"Content-Type": "image/png"}]
    missing = [c for c in wanted if c not in conditions]
    return [f"the upload policy lacks {missing}: {conditions}"] if missing else []


def inert_text(cast: Cast) -> Finding:
    """Injection strings in a name another party sees: stored and shown as
    sent, never evaluated."""
    finding = Finding("injection strings are inert text")
    headers = cast.a.client.headers
    for text in INJECTIONS:
        changed_name = cast.edge.patch("/v1/users/me", headers=headers, json={"displayName": text})
        finding.sent += 1
        if changed_name.status_code != 200 or changed_name.json().get("displayName") != text:
            finding.failures.append(
                f"displayName {text!r}: {changed_name.status_code} {changed_name.text[:160]}"
            )
    return finding


def run(cast: Cast, tables: Tables, routes: list[PublicRoute]) -> list[Finding]:
    before = tables.quiet()
    findings = [control_characters(cast, routes), path_tricks(cast, routes), big_inputs(cast)]
    stored = changed(before, tables.quiet(seconds=10))
    # The upload grant writes its document record, by design (the bytes were refused).
    stored = [t for t in stored if not t.endswith("kyc-documents")]
    findings.append(Finding("stores nothing (every table as before)", 1, stored))
    findings.append(inert_text(cast))
    return findings
