"""IAM: no wildcard action on a data store, execution roles that name only
their service's resources, task roles that are their generated policy, and
append-only tables nobody can rewrite."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import Tree, as_list, blocks, policy_statements
from mindlinks_dev.iam import rules
from mindlinks_dev.iam.policy import ITEM_REWRITES
from mindlinks_kit.declaration import Fleet

DATA_STORES = rules.DATA_STORES
NO_RESOURCE_LEVEL = rules.NO_RESOURCE_LEVEL


def _delegates_to_account(statement: Mapping[str, Any]) -> bool:
    """A key policy's statement giving the account (root) the key: IAM decides."""
    for principal in statement.get("principals", []):
        if any(":root" in str(i) for i in as_list(principal.get("identifiers", []))):
            return True
    return False


def _key_policies(tree: Tree) -> set[tuple[Path, str]]:
    """Policy documents used as KMS key policies (their ``kms:*`` actions act
    on the one key they are attached to)."""
    used = set()
    for path, type_, _, body in blocks(tree, "resource"):
        if type_ == "aws_kms_key":
            match = re.search(r"data\.aws_iam_policy_document\.(\w+)", str(body.get("policy", "")))
            if match:
                used.add((path.parent, match.group(1)))
    return used


def iam_problems(tree: Tree) -> list[str]:
    found: list[str] = []
    key_policies = _key_policies(tree)
    for path, type_, name, body in blocks(tree, "data"):
        if type_ != "aws_iam_policy_document":
            continue
        key_policy = (path.parent, name) in key_policies
        for statement in policy_statements(body):
            if statement.get("effect", "Allow") != "Allow" or _delegates_to_account(statement):
                continue
            for action in as_list(statement.get("actions", [])):
                action = str(action)
                service = action.split(":")[0]
                if key_policy and service == "kms":
                    continue
                if rules.wildcard_on_a_store(action):
                    found.append(f"{path.name}: {name}: wildcard action {action}")
    found += task_role_problems(tree)
    return found


def task_role_problems(tree: Tree) -> list[str]:
    """The execution role names only the ARNs the platform picked for the
    service (``var.access``, ``var.image``, ``var.log_group``), ``"*"`` only
    for actions without resource-level permissions; the task role is its
    generated policy and nothing else."""
    found = []
    for path, type_, name, body in blocks(tree, "data"):
        if type_ != "aws_iam_policy_document" or path.parent.name != "ecs-service":
            continue
        if name == "task":
            dynamics = [spec for d in body.get("dynamic", []) for spec in d.values()]
            generated = [d for d in dynamics if str(d.get("for_each")) == "${var.task_policy}"]
            if body.get("statement") or len(dynamics) != 1 or not generated:
                found.append(f"{path.name}: task: not exactly the generated var.task_policy")
            continue
        if name != "execution":
            continue
        for statement in policy_statements(body):
            actions = [str(a) for a in as_list(statement.get("actions", []))]
            for resource in as_list(statement.get("resources", [])):
                resource = str(resource)
                if resource == "*":
                    if not rules.unscoped_only(actions):
                        found.append(f"{path.name}: {name}: '*' resource for {actions}")
                    continue
                if not re.search(r"var\.(access|image|log_group)\.", resource):
                    found.append(
                        f"{path.name}: {name}: resource {resource} is not one of the service's own"
                    )
    return found


def append_only_problems(tree: Tree, variables: Mapping[str, Any], fleet: Fleet) -> list[str]:
    """Every table declared ``append_only`` reaches Terraform as such; its
    owner's generated task policy allows no rewriting action on it and denies
    every one (``mindlinks_dev.iam.rules``); a resource policy on the table
    denies them to everyone else."""
    found: list[str] = []
    for service in fleet.services:
        for table in fleet.tables(service.name):
            physical = f"{service.name}-{table.name}"
            declared = variables.get("tables", {}).get(physical, {}).get("append_only", False)
            if table.append_only and declared is not True:
                found.append(f"tables: {physical} is append-only but its variable says {declared}")
    found += [p for p in rules.problems(variables, fleet) if "deny" in p or "allows" in p]
    found += _append_only_resource_policy_problems(tree)
    return found


def _append_only_resource_policy_problems(tree: Tree) -> list[str]:
    """Each append-only table carries a resource policy denying every
    principal the rewriting actions (operators' own policies included)."""
    policies = {
        name: body
        for _, type_, name, body in blocks(tree, "data")
        if type_ == "aws_iam_policy_document" and "append_only" in str(body.get("for_each", ""))
    }
    attached = [
        body
        for _, type_, _, body in blocks(tree, "resource")
        if type_ == "aws_dynamodb_resource_policy"
        and any(
            f"aws_iam_policy_document.{name}" in f"{body.get('for_each')} {body.get('policy')}"
            for name in policies
        )
    ]
    if not policies or not attached:
        return ["data: append-only tables have no resource policy"]
    denied: set[str] = set()
    owners: list[str] = []
    for body in policies.values():
        for statement in policy_statements(body):
            everyone = any(
                "*" in as_list(p.get("identifiers", [])) for p in statement.get("principals", [])
            )
            if statement.get("effect") == "Deny" and everyone and not statement.get("condition"):
                denied |= {str(a) for a in as_list(statement.get("actions", []))}
            if "dynamodb:PutItem" in as_list(statement.get("actions", [])):
                owners.append(str(statement.get("condition", "")))
    found = []
    missing = sorted(set(ITEM_REWRITES) - denied)
    if missing:
        found.append(f"data: the append-only resource policy does not deny {missing}")
    # Puts are left to the owner's task role, named as ecs-service names it.
    role = [
        body
        for path, type_, name, body in blocks(tree, "resource")
        if type_ == "aws_iam_role" and name == "task" and path.parent.name == "ecs-service"
    ]
    if not role or role[0].get("name") != "${var.name}-${var.service_name}-task":
        found.append("ecs-service: the task role is not named <name>-<service>-task")
    if not any(
        "aws:PrincipalArn" in o and ":role/${var.name}-${each.value.service}-task" in o
        for o in owners
    ):
        found.append("data: puts on append-only tables are not left to the owner's task role")
    return found
