"""Planted defects: every check must fail on a copy with the defect it exists for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mindlinks_dev.deploy import checks, compose, dockerfile, hclfmt, terraform, validate
from mindlinks_dev.iam import rules
from mindlinks_fleet import FLEET

from .conftest import remove_block, replace_in

SSE_BLOCK = (
    "  server_side_encryption {\n"
    "    enabled     = true\n"
    '    kms_key_arn = var.kms_key_arns["data"]\n'
    "  }\n"
)

# --- Terraform ------------------------------------------------------------------


def generated_variables(root: Path) -> dict[str, Any]:
    variables: dict[str, Any] = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    return variables


def statement(variables: dict[str, Any], service: str, sid: str) -> dict[str, Any]:
    policy = variables["task_policies"][service]
    found: dict[str, Any] = next(s for s in policy if s["sid"] == sid)
    return found


def test_wildcard_action_on_a_data_store_is_caught(root: Path) -> None:
    variables = generated_variables(root)
    statement(variables, "payment", "OwnTables")["actions"].append("dynamodb:*")
    assert "payment: OwnTables: wildcard action dynamodb:*" in rules.problems(variables, FLEET)


def test_a_task_role_with_statements_of_its_own_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/ecs-service/iam.tf",
        'data "aws_iam_policy_document" "task" {\n',
        'data "aws_iam_policy_document" "task" {\n'
        '  statement {\n    actions   = ["s3:GetObject"]\n    resources = ["*"]\n  }\n',
    )
    problems = checks.iam_problems(checks.parse_tree(terraform_copy))
    assert "iam.tf: task: not exactly the generated var.task_policy" in problems


def test_wildcard_action_anywhere_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/network/main.tf",
        '"logs:CreateLogStream", ',
        '"logs:*", "s3:Get*", ',
    )
    problems = checks.iam_problems(checks.parse_tree(terraform_copy))
    assert any("s3:Get*" in p for p in problems)


def test_a_resource_of_another_service_is_caught(root: Path) -> None:
    variables = generated_variables(root)
    statement(variables, "payment", "OwnTables")["resources"].append("table/contract-contracts")
    statement(variables, "user", "ReadServiceSecrets")["resources"].append("secret/service/auth")
    problems = rules.problems(variables, FLEET)
    assert (
        "payment: OwnTables: table/contract-contracts is not one of the service's own" in problems
    )
    assert (
        "user: ReadServiceSecrets: secret/service/auth is not one of the service's own" in problems
    )


def test_a_wildcard_resource_for_a_data_action_is_caught(root: Path) -> None:
    variables = generated_variables(root)
    statement(variables, "ledger", "Traces")["actions"].append("dynamodb:GetItem")
    assert any("ledger: Traces: '*' resource for" in p for p in rules.problems(variables, FLEET))


def test_unencrypted_table_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/data/dynamodb.tf",
        SSE_BLOCK,
        "",
    )
    problems = checks.encryption_problems(checks.parse_tree(terraform_copy))
    assert any("aws_dynamodb_table.this: not encrypted" in p for p in problems)


def test_bucket_without_kms_or_compliance_lock_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/data/s3.tf",
        'sse_algorithm     = "aws:kms"',
        'sse_algorithm     = "AES256"',
    )
    replace_in(terraform_copy / "modules/data/s3.tf", 'mode = "COMPLIANCE"', 'mode = "GOVERNANCE"')
    problems = checks.encryption_problems(checks.parse_tree(terraform_copy))
    assert any("not SSE-KMS" in p for p in problems)
    assert any("compliance mode" in p for p in problems)


def test_unencrypted_queue_and_plain_redis_are_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/events/main.tf",
        "  kms_master_key_id         = var.kms_key_arn\n",
        "",
    )
    replace_in(
        terraform_copy / "modules/data/redis.tf",
        "transit_encryption_enabled = true",
        "transit_encryption_enabled = false",
    )
    problems = checks.encryption_problems(checks.parse_tree(terraform_copy))
    assert any("aws_sqs_queue.dlq: not encrypted" in p for p in problems)
    assert any("in transit" in p for p in problems)


def test_service_missing_from_the_variables_is_caught(terraform_copy: Path) -> None:
    path = terraform_copy / "fleet.auto.tfvars.json"
    variables = json.loads(path.read_text())
    del variables["services"]["payment"]
    variables["services"]["auth"]["cpu"] = 1024
    path.write_text(json.dumps(variables))
    problems = checks.wiring_problems(terraform_copy, checks.parse_tree(terraform_copy), FLEET)
    assert "services: payment missing" in problems
    assert any("services.auth.cpu" in p for p in problems)


def test_alarms_not_per_service_are_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/observability/main.tf",
        "for_each            = var.target_groups",
        "for_each            = {}",
    )
    problems = checks.wiring_problems(terraform_copy, checks.parse_tree(terraform_copy), FLEET)
    assert any("aws_cloudwatch_metric_alarm.errors" in p for p in problems)


def test_environments_that_differ_in_code_or_locking_are_caught(terraform_copy: Path) -> None:
    # Every environment links envs/common/main.tf; a drift is a link replaced by a file.
    prod = terraform_copy / "envs/prod/main.tf"
    text = prod.read_text(encoding="utf-8")
    prod.unlink()
    prod.write_text(text, encoding="utf-8")
    replace_in(prod, "use_lockfile = true", "use_lockfile = false")
    problems = checks.wiring_problems(terraform_copy, checks.parse_tree(terraform_copy), FLEET)
    assert "envs: main.tf differs between environments" in problems
    assert any("envs/prod: state not in S3 with use_lockfile" in p for p in problems)


def test_autoscaling_without_memory_or_with_the_wrong_thresholds_is_caught(
    terraform_copy: Path,
) -> None:
    module = terraform_copy / "modules/ecs-service"
    remove_block(module / "autoscaling.tf", 'resource "aws_appautoscaling_policy" "memory" {')
    replace_in(module / "autoscaling.tf", "disable_scale_in   = true", "disable_scale_in   = false")
    replace_in(module / "variables.tf", "default     = 30", "default     = 40")
    replace_in(
        module / "autoscaling.tf",
        '"LessThanOrEqualToThreshold"',
        '"LessThanThreshold"',
    )
    problems = checks.autoscaling_problems(checks.parse_tree(terraform_copy), terraform_copy)
    assert "autoscaling: no target tracking on memory" in problems
    assert "autoscaling: cpu target tracking also scales in" in problems
    assert "autoscaling: scale_in_percent is not 30 %" in problems
    assert "autoscaling: the scale-in alarm is not at or under scale_in_percent" in problems
    wiring = checks.wiring_problems(terraform_copy, checks.parse_tree(terraform_copy), FLEET)
    assert any("no memory scaling policy" in p for p in wiring)


def test_requests_tracked_on_one_target_group_only_are_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/ecs-service/autoscaling.tf",
        "  for_each           = aws_lb_target_group.this\n",
        "",
    )
    replace_in(
        terraform_copy / "modules/ecs-service/autoscaling.tf",
        "/${each.value.arn_suffix}",
        '/${aws_lb_target_group.this["blue"].arn_suffix}',
    )
    problems = checks.autoscaling_problems(checks.parse_tree(terraform_copy), terraform_copy)
    assert "autoscaling: requests are not tracked on both blue/green target groups" in problems


def test_a_subnet_without_a_network_acl_is_caught(terraform_copy: Path) -> None:
    main = terraform_copy / "modules/network/main.tf"
    main.write_text(
        main.read_text()
        + 'resource "aws_subnet" "data" {\n'
        + "  vpc_id     = aws_vpc.this.id\n"
        + "  cidr_block = cidrsubnet(var.cidr_block, 4, 12)\n}\n"
    )
    replace_in(
        terraform_copy / "modules/network/nacl.tf",
        "  subnet_ids = [for subnet in aws_subnet.public : subnet.id]\n",
        "",
    )
    remove_block(
        terraform_copy / "modules/network/nacl.tf", 'resource "aws_default_network_acl" "this" {'
    )
    problems = checks.network_acl_problems(terraform_copy, checks.parse_tree(terraform_copy), FLEET)
    assert "network: subnets data are not in network ACL data" in problems
    assert "network: subnets public are not in network ACL public" in problems
    assert "network: the default network ACL is not managed empty (deny all)" in problems


def test_network_acls_without_replies_or_open_to_everything_are_caught(
    terraform_copy: Path,
) -> None:
    nacl = terraform_copy / "modules/network/nacl.tf"
    text = nacl.read_text()
    private = text.index('resource "aws_network_acl" "private"')
    replies = 'cidr_block = "0.0.0.0/0"\n    from_port  = 1024'
    https_out = 'protocol   = "tcp"\n    cidr_block = "0.0.0.0/0"\n    from_port  = 443'
    assert replies in text[private:]
    assert https_out in text[private:]
    # private: the replies to the tasks' HTTPS dropped, every protocol let out
    private_acl = (
        text[private:]
        .replace(replies, replies.replace("1024", "2048"), 1)
        .replace(https_out, https_out.replace('"tcp"', '"-1"'), 1)
    )
    nacl.write_text(text[:private] + private_acl)
    problems = checks.network_acl_problems(terraform_copy, checks.parse_tree(terraform_copy), FLEET)
    assert (
        "network: private ingress refuses replies to the tasks' HTTPS (tcp 1024-65535)" in problems
    )
    assert "network: private egress admits TCP out other than 443 (tcp 0-442)" in problems
    assert "network: private egress admits UDP out (udp 0-65535)" in problems
    assert not any(p.startswith("network: public") for p in problems), problems


def test_a_trail_without_data_events_on_a_document_bucket_is_caught(
    terraform_copy: Path,
) -> None:
    replace_in(
        terraform_copy / "platform/main.tf",
        "concat(values(module.data.bucket_arns), [local.state_bucket_arn])",
        '[module.data.bucket_arns["ledger-digests"]]',
    )
    replace_in(
        terraform_copy / "modules/audit/main.tf",
        "  enable_log_file_validation    = true\n",
        "",
    )
    problems = checks.trail_problems(terraform_copy, checks.parse_tree(terraform_copy))
    assert "audit: trail this: enable_log_file_validation is not true" in problems
    assert (
        "data: aws_s3_bucket.this: CKV_AWS_18 relies on the trail, "
        "which does not record its data events"
    ) in problems
    assert (
        "bootstrap: aws_s3_bucket.state: CKV_AWS_18 relies on the trail, "
        "which does not record its data events"
    ) in problems


def test_a_trail_recording_writes_only_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/audit/main.tf",
        '      field  = "resources.type"',
        '      field  = "readOnly"\n      equals = ["false"]\n    }\n    field_selector {\n'
        '      field  = "resources.type"',
    )
    problems = checks.trail_problems(terraform_copy, checks.parse_tree(terraform_copy))
    assert any("does not record object reads and writes" in p for p in problems), problems


def test_a_trail_blind_to_the_append_only_tables_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/audit/main.tf",
        '["AWS::DynamoDB::Table"]',
        '["AWS::DynamoDB::Stream"]',
    )
    replace_in(terraform_copy / "platform/main.tf", "if table.append_only]", "if false]")
    problems = checks.trail_problems(terraform_copy, checks.parse_tree(terraform_copy))
    assert "audit: trail this does not record writes to append_only_table_arns" in problems
    assert "platform: the trail is not given the append-only tables" in problems


def test_a_table_not_in_a_backup_selection_is_caught(root: Path, terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "platform/main.tf",
        "table_arns     = values(module.data.table_arns)",
        "table_arns     = [for name, arn in module.data.table_arns : arn if name != "
        '"ledger-journal"]',
    )
    replace_in(
        terraform_copy / "platform/main.tf",
        "module.data.bucket_arns[name] if bucket.object_lock]",
        'module.data.bucket_arns[name] if name != "ledger-digests"]',
    )
    replace_in(terraform_copy / "envs/dev/terraform.tfvars", "monthly = 31", "monthly = 3")
    variables = json.loads((root / "infra/terraform/fleet.auto.tfvars.json").read_text())
    problems = checks.backup_problems(terraform_copy, checks.parse_tree(terraform_copy), variables)
    assert "backup: not every table is in the backup selection" in problems
    assert (
        "backup: the ledger's digest bucket (ledger-digests) is not in the backup selection"
        in problems
    )
    assert "envs/dev: backup_retention_days does not state daily <= monthly days" in problems


def test_log_groups_not_named_as_the_design_says_are_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/observability/main.tf",
        '"/aws/ecs/${var.name}/${each.key}"',
        '"/mindlinks/${var.name}/${each.key}"',
    )
    replace_in(
        terraform_copy / "modules/ecs-service/iam.tf",
        'resources = ["${var.log_group.arn}:*"]',
        'resources = ["arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/*"]',
    )
    problems = checks.log_group_problems(terraform_copy, checks.parse_tree(terraform_copy))
    assert any(p.startswith("observability: log groups are '/mindlinks/") for p in problems)
    assert (
        "ecs-service: the execution role does not write exactly the service's log group" in problems
    )


def test_unformatted_hcl_is_caught(terraform_copy: Path) -> None:
    path = terraform_copy / "modules/events/main.tf"
    replace_in(
        path,
        '  name               = "${var.resource_prefix}${var.bus}"',
        '  name = "${var.resource_prefix}${var.bus}"',
    )
    assert hclfmt.problems(path.read_text())
    assert hclfmt.problems('x = "${var.y}"\n') == ['line 1: interpolation-only string "${var.y}"']
    assert hclfmt.main([str(terraform_copy)]) == 1


def test_hcl_that_does_not_parse_is_caught(terraform_copy: Path) -> None:
    (terraform_copy / "modules/events/broken.tf").write_text(
        'resource "aws_sqs_queue" "x" {\n  name =\n}\n'
    )
    with pytest.raises(ValueError, match=r"broken\.tf: does not parse"):
        checks.parse_tree(terraform_copy)


@pytest.fixture
def data_module(terraform_root: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(terraform_root / "modules" / "data", copy)
    return copy


def test_checkov_catches_an_unencrypted_table(root: Path, data_module: Path) -> None:
    assert validate.checkov_problems(data_module, root) == []
    replace_in(
        data_module / "dynamodb.tf",
        SSE_BLOCK,
        "",
    )
    problems = validate.checkov_problems(data_module, root)
    assert any(p.startswith("CKV_AWS_119") for p in problems), problems


def test_checkov_dropping_a_modules_for_each_is_not_silent(
    root: Path, terraform_copy: Path
) -> None:
    """A module input that looks like a cycle to checkov (the network ACL
    reading the listener's port) makes it skip every bucket and log group,
    and still pass."""
    replace_in(
        terraform_copy / "platform/main.tf",
        "load_balancer_port = local.listener_port",
        "load_balancer_port = aws_lb_listener.http.port",
    )
    problems = validate.checkov_problems(
        terraform_copy, root, validate.checkov_expected(terraform_copy)
    )
    assert 'checkov did not check module.data.aws_s3_bucket.this["kyc-documents"]' in problems
    assert 'checkov did not check aws_cloudwatch_log_group.service["auth"]' in problems


def test_checkov_parse_failures_are_not_silent(root: Path, data_module: Path) -> None:
    (data_module / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket =\n}\n')
    problems = validate.checkov_problems(data_module, root)
    assert any("could not parse" in p for p in problems), problems


# --- compose --------------------------------------------------------------------


def test_compose_service_without_healthcheck_is_caught(root: Path) -> None:
    document = yaml.safe_load((root / "docker-compose.yml").read_text())
    del document["services"]["auth"]["healthcheck"]
    document["services"]["user"]["depends_on"].pop("bootstrap")
    problems = compose.problems(document)
    assert "auth: no healthcheck on /health/live" in problems
    assert "user: does not wait for bootstrap (service_completed_successfully)" in problems


def test_compose_with_a_bad_key_fails_the_schema_and_the_cli(root: Path, tmp_path: Path) -> None:
    text = (root / "docker-compose.yml").read_text()
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(text.replace("    healthcheck:\n", "    health_check:\n", 1))
    assert validate.schema_problems("vendor.compose-spec", [bad])
    assert validate.compose_config_problems(bad, {"MINDLINKS_CURSOR_SECRET": "x"})


# --- Dockerfile -----------------------------------------------------------------


def test_dockerfile_running_as_root_is_caught(root: Path, tmp_path: Path) -> None:
    text = (root / "docker" / "Dockerfile").read_text()
    without_user = text.replace("USER 10001:10001\n", "")
    assert any("runs as root" in p for p in dockerfile.problems(without_user))
    as_root = text.rstrip("\n") + "\nUSER root\n"
    assert any("runs as root" in p for p in dockerfile.problems(as_root))
    path = tmp_path / "Dockerfile"
    path.write_text(as_root)
    assert any(p.startswith("DL3002") for p in validate.hadolint_problems(path))


def test_dockerfile_building_in_the_final_stage_or_shell_form_is_caught(
    root: Path, tmp_path: Path
) -> None:
    text = (root / "docker" / "Dockerfile").read_text()
    planted = text.replace(
        "STOPSIGNAL SIGTERM\n",
        "STOPSIGNAL SIGTERM\nRUN apt-get update && apt-get install -y curl\n",
    ).replace('CMD ["sh", "-c", "exec uvicorn', 'CMD ["sh", "-c", "uvicorn')
    problems = dockerfile.problems(planted)
    assert any("builds in a runtime stage" in p for p in problems)
    assert any("not PID 1" in p for p in problems)
    path = tmp_path / "Dockerfile"
    path.write_text(planted)
    codes = {p.split()[0] for p in validate.hadolint_problems(path)}
    assert {"DL3008", "DL3009"} <= codes


# --- workflows ------------------------------------------------------------------


def test_workflow_with_a_bad_key_fails_the_schema(root: Path, tmp_path: Path) -> None:
    text = (root / ".github" / "workflows" / "ci.yml").read_text()
    bad = tmp_path / "ci.yml"
    bad.write_text(text.replace("    runs-on: ubuntu-24.04\n", "    run-on: ubuntu-24.04\n", 1))
    assert validate.schema_problems("vendor.github-workflows", [bad])
