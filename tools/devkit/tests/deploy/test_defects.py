"""Planted defects: every check must fail on a copy with the defect it exists for."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mindlinks_dev.deploy import (
    checks,
    compose,
    deploy_roles,
    dockerfile,
    hclfmt,
    pipeline,
    terraform,
    validate,
)
from mindlinks_dev.iam import rules
from mindlinks_fleet import FLEET

from .conftest import remove_block, replace_in

Workflows = tuple[dict[Any, Any], dict[Any, Any]]

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


# --- release pipeline: workflows --------------------------------------------------


@pytest.fixture
def workflows(root: Path) -> Workflows:
    """Fresh copies of ci.yml and deploy.yml to plant defects in."""
    folder = root / ".github" / "workflows"
    return (
        yaml.safe_load((folder / "ci.yml").read_text()),
        yaml.safe_load((folder / "deploy.yml").read_text()),
    )


def _step(job: dict[str, Any], needle: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if needle in str(s.get("uses", "")) + str(s.get("run", "")))


def test_a_push_job_that_does_not_need_ci_is_caught(workflows: Workflows) -> None:
    ci, deploy = workflows
    assert pipeline.gate_problems(ci, deploy) == []
    deploy["jobs"]["services"]["needs"] = ["target"]
    assert pipeline.gate_problems(ci, deploy) == [
        "deploy.yml: job services does not need the CI job (ci)"
    ]


def test_a_ci_that_cannot_be_called_or_is_not_called_is_caught(workflows: Workflows) -> None:
    ci, deploy = workflows
    del ci[True]["workflow_call"]
    deploy["jobs"]["ci"]["uses"] = "./.github/workflows/lint.yml"
    problems = pipeline.gate_problems(ci, deploy)
    assert "ci.yml: not callable (on: workflow_call)" in problems
    assert any("no job uses ./.github/workflows/ci.yml" in p for p in problems)


def test_deploys_not_serialised_per_environment_are_caught(workflows: Workflows) -> None:
    _, deploy = workflows
    deploy["concurrency"] = {"group": "deploy-${{ github.ref }}", "cancel-in-progress": True}
    problems = pipeline.concurrency_problems(deploy)
    assert any("may be cancelled" in p for p in problems)
    assert any("is not deploy-<environment>" in p for p in problems)
    deploy["concurrency"] = {
        "group": "deploy-${{ startsWith(github.ref, 'refs/tags/v') && 'staging' || 'dev' }}",
        "cancel-in-progress": False,
    }
    assert any(
        "puts refs/tags/v1.4.0 in staging, not prod" in p
        for p in pipeline.concurrency_problems(deploy)
    )


def test_roles_used_outside_their_place_are_caught(workflows: Workflows) -> None:
    _, deploy = workflows
    deploy["jobs"]["plan"]["environment"] = "prod"
    del deploy["jobs"]["apply"]["environment"]
    deploy["jobs"]["services"]["steps"][3]["with"]["aws-access-key-id"] = "${{ secrets.AWS_KEY }}"
    problems = pipeline.role_problems(deploy)
    assert "deploy.yml: plan: the plan role inside an environment" in problems
    assert "deploy.yml: apply: the deploy role outside the GitHub environment" in problems
    assert "deploy.yml: stored credentials (aws-access-key-id)" in problems


def test_an_apply_that_is_not_the_reviewed_plan_is_caught(workflows: Workflows) -> None:
    _, deploy = workflows
    _step(deploy["jobs"]["plan"], "terraform plan")["run"] = "terraform plan -out=tfplan"
    apply = _step(deploy["jobs"]["apply"], "terraform apply")
    apply["run"] = "terraform apply -input=false -auto-approve -var initial_image_tag=x"
    problems = pipeline.apply_problems(deploy)
    assert "deploy.yml: plan: terraform plan without -lock=false" in problems
    assert any("does not apply exactly the saved plan" in p for p in problems)


def test_a_push_before_the_image_scan_is_caught(workflows: Workflows) -> None:
    ci, deploy = workflows
    services = deploy["jobs"]["services"]
    scan = _step(services, "trivy-action")
    services["steps"].remove(scan)
    services["steps"].append(scan)  # after the push
    _step(ci["jobs"]["images"], "trivy-action")["with"]["exit-code"] = "0"
    problems = pipeline.supply_chain_problems(ci, deploy)
    assert "deploy.yml: services: pushes without a Trivy scan failing on CRITICAL first" in problems
    assert any("ci.yml: images: images not scanned" in p for p in problems)


def test_an_action_not_pinned_by_commit_is_caught(workflows: Workflows) -> None:
    ci, deploy = workflows
    deploy["jobs"]["apply"]["steps"][0]["uses"] = "actions/checkout@v4"
    problems = pipeline.supply_chain_problems(ci, deploy)
    assert problems == ["deploy.yml: apply: actions/checkout@v4 is not pinned by commit"]


def test_a_rollout_where_one_failure_stops_the_rest_is_caught(workflows: Workflows) -> None:
    _, deploy = workflows
    deploy["jobs"]["services"]["strategy"]["fail-fast"] = True
    assert pipeline.rollout_problems(deploy) == [
        "deploy.yml: services: one service's failure cancels the others (fail-fast)"
    ]


# --- release pipeline: the AWS roles (bootstrap) ----------------------------------


def _roles(terraform_copy: Path) -> list[str]:
    return deploy_roles.problems(checks.parse_tree(terraform_copy), terraform_copy)


def test_administrator_access_is_caught(terraform_copy: Path) -> None:
    assert _roles(terraform_copy) == []
    with (terraform_copy / "bootstrap/roles.tf").open("a") as file:
        file.write(
            'resource "aws_iam_role_policy_attachment" "admin" {\n'
            '  role       = aws_iam_role.deploy["prod"].name\n'
            '  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"\n'
            "}\n"
        )
    problems = _roles(terraform_copy)
    assert any("attaches arn:aws:iam::aws:policy/AdministratorAccess" in p for p in problems)
    assert any("names AdministratorAccess" in p for p in problems)


def test_a_service_wide_action_or_iam_on_everything_is_caught(terraform_copy: Path) -> None:
    path = terraform_copy / "bootstrap/deploy_policies.tf"
    replace_in(path, '"iam:CreateRole",', '"iam:*",')
    replace_in(
        path,
        '    resources = ["${local.iam}:role/${each.value.name}-*"]\n  }\n',
        '    resources = ["*"]\n  }\n',
    )
    problems = _roles(terraform_copy)
    assert "bootstrap: deploy_iam: OwnRoles: wildcard action iam:*" in problems
    assert (
        "bootstrap: deploy_iam: OwnRoles: IAM on *, not a role or policy named <name>-…" in problems
    )


def test_a_trust_without_the_ref_or_environment_is_caught(terraform_copy: Path) -> None:
    path = terraform_copy / "bootstrap/roles.tf"
    replace_in(
        path,
        "    condition {\n"
        '      test     = "StringLike"\n'
        '      variable = "token.actions.githubusercontent.com:ref"\n'
        "      values   = [local.deploy_refs[each.key]]\n"
        "    }\n",
        "",
    )
    replace_in(path, ":environment:${each.key}", ":*")
    problems = _roles(terraform_copy)
    assert (
        "bootstrap: deploy role trust: no condition on token.actions.githubusercontent.com:ref"
        in problems
    )
    assert any(
        p.startswith("bootstrap: deploy role trust: token.actions.githubusercontent.com:sub")
        for p in problems
    )


def test_refs_the_workflow_does_not_deploy_from_are_caught(terraform_copy: Path) -> None:
    replace_in(terraform_copy / "bootstrap/roles.tf", '"refs/tags/v*"', '"refs/tags/*"')
    assert any("is not target.REFS" in p for p in _roles(terraform_copy))


def test_a_pass_role_without_its_service_is_caught(terraform_copy: Path) -> None:
    path = terraform_copy / "bootstrap/deploy_policies.tf"
    replace_in(
        path,
        '"${local.iam}:role/${each.value.name}-*-task", '
        '"${local.iam}:role/${each.value.name}-*-execution"',
        '"${local.iam}:role/${each.value.name}-*"',
    )
    replace_in(
        path,
        '      values   = ["vpc-flow-logs.amazonaws.com"]\n',
        '      values   = ["vpc-flow-logs.amazonaws.com", "ec2.amazonaws.com"]\n',
    )
    problems = _roles(terraform_copy)
    assert any("PassTaskRoles: iam:PassRole to ecs-tasks" in p for p in problems)
    assert any(
        "PassFlowLogsRole: iam:PassRole without iam:PassedToService naming one" in p
        for p in problems
    )


def test_a_deploy_role_that_may_change_itself_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "bootstrap/deploy_policies.tf",
        '      "${local.iam}:role/${each.value.name}-deploy",\n',
        "",
    )
    assert "bootstrap: the deploy role may change the deploy role (no Deny on it)" in _roles(
        terraform_copy
    )


def test_a_plan_role_that_writes_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "bootstrap/plan_policy.tf",
        'actions   = ["s3:GetObject"]',
        'actions   = ["s3:GetObject", "s3:PutObject"]',
    )
    assert "bootstrap: plan_data: ReadStateObject: s3:PutObject is not a read" in _roles(
        terraform_copy
    )


def test_platform_roles_the_deploy_role_cannot_manage_are_caught(terraform_copy: Path) -> None:
    network = terraform_copy / "modules/network/main.tf"
    replace_in(
        network,
        'name               = "${var.name}-vpc-flow"',
        'name               = "vpc-flow-${var.name}"',
    )
    replace_in(
        terraform_copy / "modules/edge/main.tf",
        "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        "AdministratorAccess",
    )
    problems = _roles(terraform_copy)
    assert "network: aws_iam_role.flow (vpc-flow-${var.name}) is not named <name>-…" in problems
    assert (
        "edge: aws_iam_role_policy_attachment.apigateway_logs attaches AdministratorAccess, "
        "not in local.attachable_policies" in problems
    )


def test_a_platform_role_that_cannot_be_passed_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/network/main.tf",
        'name               = "${var.name}-vpc-flow"',
        'name               = "${var.name}-flow-logs"',
    )
    role = "network: aws_iam_role.flow (${var.name}-flow-logs)"
    assert f"{role} cannot be passed to vpc-flow-logs.amazonaws.com" in _roles(terraform_copy)


def test_a_policy_over_the_size_limit_is_caught(terraform_copy: Path) -> None:
    many = ", ".join(f'"ec2:CreateThing{i:03d}"' for i in range(250))
    replace_in(terraform_copy / "bootstrap/deploy_policies.tf", '"ec2:CreateVpc",', f"{many},")
    assert any("deploy_network: about" in p for p in _roles(terraform_copy))


def test_a_state_key_other_than_the_backends_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "bootstrap/main.tf",
        'state_key = "mindlinks/terraform.tfstate"',
        'state_key = "terraform.tfstate"',
    )
    assert any("is not the backend's key" in p for p in _roles(terraform_copy))


# --- release pipeline: base image -------------------------------------------------


def test_a_base_image_not_pinned_by_digest_is_caught(root: Path) -> None:
    text = (root / "docker" / "Dockerfile").read_text()
    unpinned = re.sub(r"@sha256:[0-9a-f]{64}", "", text)
    assert dockerfile.problems(text) == []
    assert dockerfile.unpinned_bases(unpinned) == [
        "base: base image python:3.11-slim-bookworm is not pinned by digest (@sha256:...)"
    ]
    via_arg = "ARG BASE=python:3.11-slim\n" + unpinned.replace(
        "FROM python:3.11-slim-bookworm AS base", "FROM ${BASE} AS base"
    )
    assert any("not pinned by digest" in p for p in dockerfile.problems(via_arg))


def test_a_resource_named_beyond_the_deploy_roles_names_is_caught(terraform_copy: Path) -> None:
    replace_in(
        terraform_copy / "modules/events/main.tf",
        'name                      = "${var.resource_prefix}${each.key}-dlq"',
        'name                      = "dead-letters-${each.key}"',
    )
    replace_in(
        terraform_copy / "modules/data/s3.tf",
        'bucket              = "${var.resource_prefix}${each.key}"',
        'bucket              = "mindlinks-${each.key}"',
    )
    problems = _roles(terraform_copy)
    assert (
        "events: aws_sqs_queue.dlq (dead-letters-${each.key}) is beyond the deploy role's names"
        in problems
    )
    assert any("aws_s3_bucket.this (mindlinks-${each.key}) is beyond" in p for p in problems)
