"""A few schemathesis examples per role, in-process (no CLI start-up): what
``make test`` runs of the schemathesis part. Each role gets ``per_role``
operations chosen by ``seed``, one schema-valid example each, with the path
parameters the cast has real ids for set to them, checked with the same
checks as the full run."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err

from mindlinks_dev.fuzz import st_checks
from mindlinks_dev.fuzz.cast import Cast
from mindlinks_dev.fuzz.schema_run import SESSION_ENDING, headers_for, ids_for
from mindlinks_dev.openapi import repo_root

EXCLUDED = {"positive_data_acceptance", "negative_data_rejection", "ignored_auth"}


@dataclass
class SmokeRun:
    calls: int = 0
    failures: list[str] = field(default_factory=list)


def _example(operation: Any, seed: int) -> Any:
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    return hypothesis.find(
        strategy,
        lambda _: True,
        # The first example, not shrunk: shrinking is what costs seconds.
        settings=hypothesis.settings(
            database=None, max_examples=20, deadline=None, phases=[hypothesis.Phase.generate]
        ),
        random=random.Random(seed),  # noqa: S311 - reproducible examples, not secrets
    )


def run(cast: Cast, roles: tuple[str, ...], per_role: int, seed: int) -> SmokeRun:
    schema = schemathesis.openapi.from_path(repo_root(Path.cwd()) / "docs" / "openapi.json")
    session_ending = re.compile(SESSION_ENDING)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        if not session_ending.match(result.ok().path):
            operations.append(result.ok())
    excluded = [check for check in CHECKS.get_all() if check.__name__ in EXCLUDED]
    extra = [st_checks.errors_are_problem_json, st_checks.schema_valid_requests_are_accepted]
    smoke = SmokeRun()
    picker = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    base_url = str(cast.edge.base_url).rstrip("/")
    for role in roles:
        headers = headers_for(cast, role)
        ids = ids_for(cast, role)
        for operation in picker.sample(operations, per_role):
            case = _example(operation, seed)
            for name in list(case.path_parameters or {}):
                if ids.get(name):
                    case.path_parameters[name] = ids[name]
            smoke.calls += 1
            try:
                case.call_and_validate(
                    base_url=base_url,
                    headers=headers,
                    additional_checks=extra,
                    excluded_checks=excluded,
                    timeout=30,
                )
            except (Failure, FailureGroup) as failed:
                smoke.failures.append(f"{role} {operation.label}: {str(failed)[:400]}")
    return smoke
