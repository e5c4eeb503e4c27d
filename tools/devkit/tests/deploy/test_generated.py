"""docker-compose.yml and fleet.auto.tfvars.json are generated from the fleet
declaration; the committed files must be the generated ones, and both targets
must give a service the same MINDLINKS_* environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.deploy import compose, terraform
from mindlinks_dev.deploy.checks import Tree, locals_of
from mindlinks_dev.deploy.environment import (
    AWS_ONLY,
    COMPOSE_ONLY,
    PLATFORM,
    compose_environment,
    settings_class,
    settings_variables,
)
from mindlinks_dev.deploy.matrix import matrix
from mindlinks_fleet import FLEET


def _tfvars(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    return data


def test_committed_compose_is_the_generated_one(root: Path) -> None:
    committed = (root / compose.PATH).read_text(encoding="utf-8")
    assert committed == compose.render(), (
        "docker-compose.yml is out of date: python -m mindlinks_dev.deploy.compose --write"
    )


def test_committed_terraform_variables_are_the_generated_ones(root: Path) -> None:
    committed = (root / terraform.PATH).read_text(encoding="utf-8")
    assert committed == terraform.render(), (
        "fleet.auto.tfvars.json is out of date: python -m mindlinks_dev.deploy.terraform --write"
    )


def test_generators_check_mode_reports_drift(tmp_path: Path) -> None:
    (tmp_path / "infra" / "terraform").mkdir(parents=True)
    (tmp_path / terraform.PATH).write_text("{}\n", encoding="utf-8")
    assert terraform.main(["--check", "--root", str(tmp_path)]) == 1
    assert terraform.main(["--write", "--root", str(tmp_path)]) == 0
    assert terraform.main(["--check", "--root", str(tmp_path)]) == 0
    assert compose.main(["--check", "--root", str(tmp_path)]) == 1


def test_compose_runs_the_whole_fleet(root: Path) -> None:
    document = yaml.safe_load((root / compose.PATH).read_text(encoding="utf-8"))
    assert compose.problems(document) == []


def test_ecs_and_compose_set_the_same_variables(
    root: Path, tree: Tree, terraform_root: Path
) -> None:
    """On ECS: the platform's per-environment values, the generated static
    values and the secrets; in compose: all of them as values. The only
    differences are the listed ones (emulated AWS and mailbox; the collector)."""
    platform = set(locals_of(tree, terraform_root / "platform")["platform_environment"])
    assert platform == set(PLATFORM)
    variables = _tfvars(root)
    for service in FLEET.services:
        entry = variables["services"][service.name]
        ecs = platform | set(entry["environment"]) | set(entry["secrets"])
        in_compose = {k for k in compose_environment(service) if k.startswith("MINDLINKS_")}
        assert ecs - AWS_ONLY == in_compose - COMPOSE_ONLY, service.name


def test_every_variable_set_is_one_the_service_reads(
    root: Path, tree: Tree, terraform_root: Path
) -> None:
    variables = _tfvars(root)
    for service in FLEET.services:
        reads = settings_variables(settings_class(service.name))
        entry = variables["services"][service.name]
        assert set(entry["environment"]) | set(entry["secrets"]) <= reads, service.name
        assert set(entry["provider_secrets"]) <= reads, service.name
        assert set(PLATFORM) <= reads
        assert {k for k in compose_environment(service) if k.startswith("MINDLINKS_")} <= reads
    for env in ("dev", "staging", "prod"):
        values = tree[terraform_root / "envs" / env / "terraform.tfvars"]
        for name, secrets in values.get("provider_secrets", {}).items():
            assert set(secrets) <= set(variables["services"][name]["provider_secrets"]), (env, name)
        for name, settings in values.get("service_environment", {}).items():
            assert set(settings) <= settings_variables(settings_class(name)), (env, name)


def test_terraform_names_what_the_local_bootstrap_creates(
    root: Path, fleet_resources: Bootstrapped
) -> None:
    """The same physical names on AWS and in moto, from one declaration."""
    variables = _tfvars(root)
    prefix = fleet_resources.prefix
    assert sorted(fleet_resources.tables) == sorted(prefix + t for t in variables["tables"])
    assert sorted(fleet_resources.buckets) == sorted(prefix + b for b in variables["buckets"])
    assert sorted(fleet_resources.queues) == sorted(variables["subscriptions"])
    assert sorted(fleet_resources.service_secrets) == sorted(variables["services"])
    for service in FLEET.services:
        assert all(
            t.startswith(f"{service.name}-") for t in variables["services"][service.name]["tables"]
        )


def test_image_matrix_lists_every_service_package(root: Path) -> None:
    built = {entry["service"]: entry["port"] for entry in matrix(FLEET, root)["include"]}
    packages = {p.parent.name for p in (root / "services").glob("*/pyproject.toml")}
    assert set(built) == packages & {s.name for s in FLEET.services}
    assert all(built[s.name] == s.port for s in FLEET.services if s.name in built)
