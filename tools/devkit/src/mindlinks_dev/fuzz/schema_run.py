"""Schemathesis over ``docs/openapi.json``, once per role, through the edge.

Each role's run gets a config of its own: its bearer token, and the ids of
the cast's real objects as schemathesis dictionaries bound to the path, query
and body parameters that name them (drawn most of the time, random ids the
rest), so generated requests reach object routes with ids that exist; the
stateful phase follows the links schemathesis infers (``Location`` headers,
and which response field feeds which parameter) from there.

Checks: schemathesis's own (no ``5xx``, status codes, content types, headers,
response schemas, the stateful ones), plus ``st_checks`` (problem+json errors,
and schema-valid requests accepted unless a listed business rule refuses
them, in place of the built-in ``positive_data_acceptance``). Left out:
``negative_data_rejection`` (what a request that breaks the schema gets is
not a promise of the suite; the hostile inputs cover the dangerous ones) and
``ignored_auth`` (the merged document declares no security schemes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindlinks_dev.fuzz.cast import Cast
from mindlinks_dev.openapi import repo_root

SESSION_ENDING = r"^/v1/auth/(logout|mfa/.*)$"
"""Left out of every role's run: they end or change the fuzzer's own session
(logout revokes the token the run goes on with; MFA set-up changes how the
admin signs in). The token table covers what they must refuse."""
BINDINGS = {
    "contract_id": ("path.contract_id", "query.contractId", "body.contractId"),
    "contractor_id": ("path.contractor_id", "query.contractorId", "body.contractorId"),
    "company_id": ("path.company_id", "query.companyId"),
    "session_id": ("path.session_id",),
    "user_id": ("path.user_id", "query.actorUserId"),
    "invitation_id": ("path.invitation_id",),
    "notification_id": ("path.notification_id",),
    "escrow_id": ("path.escrow_id",),
    "transaction_id": ("path.transaction_id",),
    "seq": ("path.seq",),
}
"""A dictionary of real ids → the parameters that name such an id."""
DRAWN = 0.8
"""How often a bound parameter takes a real id rather than a generated one."""
EXCLUDED_CHECKS = "positive_data_acceptance,negative_data_rejection,ignored_auth"


@dataclass
class RoleRun:
    role: str
    generated: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)
    """Failure title → operations."""
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # JSON strings, numbers and arrays are TOML too


def config(ids: dict[str, str]) -> str:
    lines = ["[checks.positive_data_acceptance]", "enabled = false", ""]
    for name, value in sorted(ids.items()):
        if name in BINDINGS and value:
            typed: Any = int(value) if name == "seq" else value  # an integer parameter
            lines += [f"[dictionaries.{name}]", f"values = [{_toml_value(typed)}]", ""]
    # GET /v1/contractors/{contractor_id} also matches this path (an id may be
    # "accept-invitation"), so its Allow rightly names GET too.
    lines += [
        "[[operations]]",
        'include-path = "/v1/contractors/accept-invitation"',
        "[operations.checks.allow_header_conformance]",
        "enabled = false",
        "",
    ]
    lines.append("[parameters]")
    for name, targets in sorted(BINDINGS.items()):
        if ids.get(name):
            for target in targets:
                lines.append(
                    f"{_toml_value(target)} = {{ dictionary = {_toml_value(name)}, "
                    f"probability = {DRAWN} }}"
                )
    return "\n".join(lines) + "\n"


def ids_for(cast: Cast, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "admin":
        return cast.admin_party(cast.a).ids
    party = cast.a.party(role)
    return {**cast.a.client.ids, **party.ids} if role == "contractor" else dict(party.ids)


def headers_for(cast: Cast, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "admin":
        cast.relogin_admin()
        return dict(cast.admin.headers)
    return dict(cast.a.party(role).headers)


def run_role(
    cast: Cast, role: str, out: Path, seed: int, max_time: int, max_examples: int | None = None
) -> RoleRun:
    out.mkdir(parents=True, exist_ok=True)
    config_file = out / f"schemathesis-{role}.toml"
    config_file.write_text(config(ids_for(cast, role)))
    report = out / f"schemathesis-{role}.json"
    log = out / f"schemathesis-{role}.log"
    schema = repo_root(Path.cwd()) / "docs" / "openapi.json"
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config_file),
        "--no-color",
        "run",
        str(schema),
        "--url",
        str(cast.edge.base_url).rstrip("/"),
        "--seed",
        str(seed),
        "--max-time",
        str(max_time),
        "--workers",
        "1",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--exclude-path-regex",
        SESSION_ENDING,
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--output-truncate",
        "false",
    ]
    if max_examples is not None:
        command += ["--max-examples", str(max_examples)]
    for name, value in headers_for(cast, role).items():
        command += ["--header", f"{name}: {value}"]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "mindlinks_dev.fuzz.st_checks"}
    with log.open("wb") as sink:
        subprocess.run(  # noqa: S603 - the venv's own schemathesis, fixed arguments
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=out,  # schemathesis keeps its cache in the working directory
            timeout=max_time + 300,
            check=False,
        )
    return read_report(role, report, log)


def read_report(role: str, report: Path, log: Path) -> RoleRun:
    run = RoleRun(role, log=str(log))
    if not report.exists():
        run.errors.append(f"no report; see {log}")
        return run
    document = json.loads(report.read_text())
    run.generated = int(document["test_cases"]["generated"])
    run.seconds = float(document.get("running_time", 0.0))
    for failure in document.get("failures", []):
        title = f"{failure['code']} {failure['title']}"
        run.failures[title] = list(failure.get("operations", []))
    run.errors = [f"{e['title']} x{e.get('count', 1)}" for e in document.get("errors", [])]
    return run
