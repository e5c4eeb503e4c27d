"""Encryption: every data store encrypted (KMS where AWS offers it), every
bucket versioned with public access blocked, Object Lock in compliance mode."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import Tree, blocks, first_block


def encryption_problems(tree: Tree) -> list[str]:
    found: list[str] = []
    by_type: dict[str, list[tuple[Path, str, dict[str, Any]]]] = {}
    for path, type_, name, body in blocks(tree, "resource"):
        by_type.setdefault(type_, []).append((path, name, body))

    def each(type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for path, name, body in by_type.get(type_, []):
            yield f"{path.parent.name}/{path.name}: {type_}.{name}", body

    for where, body in each("aws_dynamodb_table"):
        sse = first_block(body, "server_side_encryption")
        if sse.get("enabled") is not True or not sse.get("kms_key_arn"):
            found.append(f"{where}: not encrypted with a KMS key")
        if first_block(body, "point_in_time_recovery").get("enabled") is not True:
            found.append(f"{where}: no point-in-time recovery")
    for where, body in each("aws_sqs_queue"):
        if not body.get("kms_master_key_id") and body.get("sqs_managed_sse_enabled") is not True:
            found.append(f"{where}: not encrypted")
    for where, body in each("aws_sns_topic"):
        if not body.get("kms_master_key_id"):
            found.append(f"{where}: not encrypted")
    for where, body in each("aws_elasticache_replication_group"):
        if (
            body.get("at_rest_encryption_enabled") is not True
            or body.get("transit_encryption_enabled") is not True
        ):
            found.append(f"{where}: not encrypted at rest and in transit")
        if not body.get("auth_token") and not body.get("auth_token_wo"):
            found.append(f"{where}: no AUTH token")
    for where, body in each("aws_cloudwatch_log_group"):
        if not body.get("kms_key_id"):
            found.append(f"{where}: not encrypted")
    for where, body in each("aws_secretsmanager_secret"):
        if not body.get("kms_key_id"):
            found.append(f"{where}: not encrypted with a customer key")
    for where, body in each("aws_cloudwatch_event_bus"):
        if not body.get("kms_key_identifier"):
            found.append(f"{where}: not encrypted with a customer key")
    for where, body in each("aws_ecr_repository"):
        if first_block(body, "encryption_configuration").get("encryption_type") != "KMS":
            found.append(f"{where}: not KMS-encrypted")
    for where, body in each("aws_ssm_parameter"):
        if body.get("type") != "SecureString":
            found.append(f"{where}: not a SecureString")
    for where, body in each("aws_kms_key"):
        # KMS rotates symmetric keys only; an asymmetric signing key is
        # replaced with a new certificate instead (docs/security.md).
        asymmetric = body.get("key_usage") == "SIGN_VERIFY"
        if body.get("enable_key_rotation") is not True and not asymmetric:
            found.append(f"{where}: key rotation off")
    found += _bucket_problems(by_type)
    return found


def _bucket_problems(by_type: Mapping[str, list[tuple[Path, str, dict[str, Any]]]]) -> list[str]:
    """Each bucket has SSE-KMS, versioning and a public access block that
    cover the same instances (same ``for_each``) in the same module."""
    found = []
    companions = {
        "aws_s3_bucket_server_side_encryption_configuration": "SSE-KMS",
        "aws_s3_bucket_versioning": "versioning",
        "aws_s3_bucket_public_access_block": "public access block",
    }
    for path, name, body in by_type.get("aws_s3_bucket", []):
        for companion, what in companions.items():
            matches = [
                b
                for p, _, b in by_type.get(companion, [])
                if p.parent == path.parent
                and (f"aws_s3_bucket.{name}" in str(b.get("bucket")))
                and b.get("for_each") == body.get("for_each")
            ]
            if not matches:
                found.append(f"{path.parent.name}: aws_s3_bucket.{name} has no {what}")
                continue
            config = matches[0]
            if companion.endswith("encryption_configuration"):
                default = first_block(
                    first_block(config, "rule"), "apply_server_side_encryption_by_default"
                )
                if default.get("sse_algorithm") != "aws:kms" or not default.get(
                    "kms_master_key_id"
                ):
                    found.append(f"{path.parent.name}: aws_s3_bucket.{name} not SSE-KMS")
            versioning = first_block(config, "versioning_configuration").get("status")
            if companion.endswith("versioning") and versioning != "Enabled":
                found.append(f"{path.parent.name}: aws_s3_bucket.{name} not versioned")
            if companion.endswith("public_access_block"):
                flags = (
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                )
                if not all(config.get(flag) is True for flag in flags):
                    found.append(
                        f"{path.parent.name}: aws_s3_bucket.{name} public access not blocked"
                    )
        if body.get("object_lock_enabled") not in (None, False):
            locks = [
                b
                for p, _, b in by_type.get("aws_s3_bucket_object_lock_configuration", [])
                if p.parent == path.parent
            ]
            modes = {
                first_block(first_block(b, "rule"), "default_retention").get("mode") for b in locks
            }
            if modes != {"COMPLIANCE"}:
                found.append(
                    f"{path.parent.name}: aws_s3_bucket.{name} Object Lock not in compliance mode"
                )
    return found
