"""The hostile-input suite in small (``make fuzz`` runs it in full against a
fleet of its own): the token and webhook attack table in full, a sample of
the authorization matrix, the company-role matrix in full, hostile bytes on
a few routes, and a few schemathesis examples per role, against this
session's fleet."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mindlinks_dev.catalog import public_routes
from mindlinks_dev.fuzz import attacks, company, hostile, matrix, schema_smoke
from mindlinks_dev.fuzz.cast import ROLES, Cast, assemble
from mindlinks_dev.fuzz.stored import Tables
from mindlinks_fleet import FLEET

SEED = 20261203


@pytest.fixture(scope="module")
def cast(edge: httpx.Client, fleet_run_dir: Path) -> Cast:
    return assemble(edge, fleet_run_dir)


@pytest.fixture(scope="module")
def tables(fleet_run_dir: Path) -> Tables:
    return Tables(json.loads((fleet_run_dir / "state.json").read_text()))


def test_every_token_and_webhook_attack_is_refused_and_stores_nothing(
    cast: Cast, tables: Tables
) -> None:
    outcomes = attacks.run(cast, tables)
    assert len(outcomes) == len(attacks.TABLE) + 2
    failed = {o.name: o.failures for o in outcomes if o.failures}
    assert not failed, failed


def test_a_sample_of_the_authorization_matrix_holds(cast: Cast) -> None:
    chosen = matrix.the_cells(sample=0.08, seed=SEED)
    verdict = matrix.run(cast, chosen)
    assert verdict.sent > 20
    assert not verdict.failures, verdict.failures


def test_every_company_role_meets_exactly_its_permissions_and_nothing_leaks(cast: Cast) -> None:
    chosen = company.the_cells()
    routes = {(c.route.method, c.route.path) for c in chosen}
    assert ("GET", "/v1/clients/me/members") in routes, "no client route acts for a company"
    verdict = company.run(cast, chosen)
    assert verdict.statuses[403], verdict.statuses
    assert verdict.statuses[404], verdict.statuses
    assert not verdict.failures, "\n".join(verdict.failures)


def test_path_tricks_and_control_characters_get_a_clear_4xx(cast: Cast) -> None:
    routes = [r for r in public_routes(FLEET) if r.path.startswith(("/v1/contracts", "/v1/users"))]
    findings = [hostile.path_tricks(cast, routes), hostile.control_characters(cast, routes)]
    failed = {f.name: f.failures for f in findings if f.failures}
    assert not failed, failed


def test_a_few_schemathesis_examples_per_role_pass_every_check(cast: Cast) -> None:
    smoke = schema_smoke.run(cast, ROLES, per_role=3, seed=SEED)
    assert smoke.calls == 3 * len(ROLES)
    assert not smoke.failures, smoke.failures
