"""The deploy workflow's AWS roles (infra/terraform/bootstrap), held to the
release process (mindlinks_dev.deploy.deploy_roles; each rule's planted
defect is in test_defects)."""

from __future__ import annotations

from pathlib import Path

from mindlinks_dev.deploy import checks, deploy_roles, target


def test_the_roles_keep_the_rules(tree: checks.Tree, terraform_root: Path) -> None:
    assert deploy_roles.problems(tree, terraform_root) == []


def test_one_role_pair_per_environment_named_as_the_workflow_derives_them(
    tree: checks.Tree, terraform_root: Path
) -> None:
    bootstrap = terraform_root / "bootstrap"
    roles = checks.resources_in(tree, bootstrap)
    assert roles[("aws_iam_role", "deploy")]["for_each"] == "${local.environments}"
    assert roles[("aws_iam_role", "plan")]["for_each"] == "${local.environments}"
    environments = checks.locals_of(tree, bootstrap)["environments"]
    assert "mindlinks-${environment}-" in str(environments)  # target.Target.name agrees
    assert checks.locals_of(tree, bootstrap)["deploy_refs"] == target.REFS


def test_every_policy_fits_with_room_to_spare(tree: checks.Tree, terraform_root: Path) -> None:
    bootstrap = terraform_root / "bootstrap"
    values = checks.locals_of(tree, bootstrap)
    for role in ("deploy", "plan"):
        documents = deploy_roles.policy_documents(tree, bootstrap, role)
        assert documents, role
        for name, body in documents.items():
            assert body, name
            assert deploy_roles.estimated_size(body, values) < deploy_roles.POLICY_LIMIT * 0.9, name
