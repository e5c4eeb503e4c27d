"""AWS Backup: every table and the ledger's digest bucket, kept as long as
each environment states."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import Tree, expect, first_block, named, resources_in

BACKUP_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


def backup_problems(root: Path, tree: Tree, variables: Mapping[str, Any]) -> list[str]:
    """A KMS-encrypted vault and a plan whose rules keep recovery points as
    long as the environment says, selecting every table and the ledger's
    digest bucket, through a role with AWS's Backup service-role policies."""
    found: list[str] = []
    module = root / "modules" / "backup"
    backup = resources_in(tree, module)
    vault = backup.get(("aws_backup_vault", "this"), {})
    expect(
        found, bool(vault.get("kms_key_arn")), "backup: the vault is not encrypted with a KMS key"
    )
    rules = backup.get(("aws_backup_plan", "this"), {}).get("rule", [])
    expect(found, len(rules) >= 2, "backup: the plan has no daily and monthly rules")
    for rule in rules:
        delete_after = str(first_block(rule, "lifecycle").get("delete_after"))
        expect(
            found,
            "var.retention_days." in delete_after and bool(rule.get("schedule")),
            f"backup: rule {rule.get('rule_name')}: no schedule or no retention_days retention",
        )
    selection = backup.get(("aws_backup_selection", "this"), {})
    chosen = str(selection.get("resources", ""))
    expect(
        found,
        "var.table_arns" in chosen and "var.bucket_arns" in chosen and " if " not in chosen,
        "backup: the selection is not every table and bucket it is given",
    )
    attached = " ".join(
        f"{body.get('for_each')} {body.get('policy_arn')}"
        for (type_, _), body in backup.items()
        if type_ == "aws_iam_role_policy_attachment"
    )
    for policy in BACKUP_POLICIES:
        expect(found, f'"{policy}"' in attached, f"backup: the role lacks {policy}")
    platform = named(tree, "module", root / "platform").get("backup", {})
    expect(
        found,
        platform.get("table_arns") == "${values(module.data.table_arns)}",
        "backup: not every table is in the backup selection",
    )
    tables = str(
        named(tree, "output", root / "modules" / "data").get("table_arns", {}).get("value")
    )
    expect(
        found,
        "aws_dynamodb_table.this" in tables and " if " not in tables,
        "backup: the data module's table_arns leave tables out",
    )
    buckets = str(platform.get("bucket_arns", ""))
    locked = [
        name for name, bucket in variables.get("buckets", {}).items() if bucket.get("object_lock")
    ]
    expect(
        found,
        bool(locked)
        and "module.data.bucket_arns" in buckets
        and (
            buckets == "${values(module.data.bucket_arns)}" or "if bucket.object_lock]" in buckets
        ),
        f"backup: the ledger's digest bucket ({', '.join(locked)}) is not in the backup selection",
    )
    expect(
        found,
        platform.get("retention_days") == "${var.backup_retention_days}",
        "backup: retention is not the environment's backup_retention_days",
    )
    for env in ("dev", "staging", "prod"):
        retention = tree.get(root / "envs" / env / "terraform.tfvars", {}).get(
            "backup_retention_days"
        )
        ok = (
            isinstance(retention, dict)
            and isinstance(retention.get("daily"), int)
            and isinstance(retention.get("monthly"), int)
            and 1 <= retention["daily"] <= retention["monthly"]
        )
        expect(found, ok, f"envs/{env}: backup_retention_days does not state daily <= monthly days")
    return found
