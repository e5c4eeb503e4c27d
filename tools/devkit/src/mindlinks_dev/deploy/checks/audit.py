"""Audit records: the CloudTrail trail (management events, and the data
events that stand in for suppressed bucket access logs) and the services'
log groups."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import (
    Tree,
    as_list,
    blocks,
    expect,
    locals_of,
    named,
    policy_statements,
    resources_in,
)

ACCESS_LOG_SKIP = re.compile(
    r'resource "aws_s3_bucket" "(\w+)" \{\n(?:[ \t]*#.*\n)*?[ \t]*#checkov:skip=CKV_AWS_18:(.*)\n'
)


def _selectors(trail: Mapping[str, Any]) -> list[dict[str, list[Any]]]:
    """Each advanced event selector as field => its conditions."""
    selectors = []
    for selector in trail.get("advanced_event_selector", []):
        fields: dict[str, list[Any]] = {}
        for field in selector.get("field_selector", []):
            fields[str(field.get("field"))] = [
                f"{key}={value}" for key, value in field.items() if key != "field"
            ]
        selectors.append(fields)
    return selectors


def trail_problems(root: Path, tree: Tree) -> list[str]:
    """One multi-region trail with validated, KMS-encrypted log files records
    every management event and the object-level (data) events of the buckets
    whose server access logs are suppressed because of it (CKV_AWS_18)."""
    found: list[str] = []
    trails = [
        (path, name, body)
        for path, type_, name, body in blocks(tree, "resource")
        if type_ == "aws_cloudtrail"
    ]
    if len(trails) != 1:
        return [f"audit: {len(trails)} CloudTrail trails, want 1"]
    path, name, trail = trails[0]
    for flag in (
        "is_multi_region_trail",
        "include_global_service_events",
        "enable_log_file_validation",
    ):
        expect(found, trail.get(flag) is True, f"audit: trail {name}: {flag} is not true")
    for argument in ("kms_key_id", "cloud_watch_logs_group_arn"):
        expect(found, bool(trail.get(argument)), f"audit: trail {name}: no {argument}")
    selectors = _selectors(trail)
    expect(
        found,
        {"eventCategory": ["equals=['Management']"]} in selectors,
        f"audit: trail {name} does not record every management event",
    )
    data = [
        s
        for s in selectors
        if s.get("eventCategory") == ["equals=['Data']"]
        and s.get("resources.type") == ["equals=['AWS::S3::Object']"]
    ]
    covered = str(data[0].get("resources.ARN")) if data else ""
    expect(
        found,
        "var.data_event_bucket_arns" in covered
        and set(data[0]) <= {"eventCategory", "resources.type", "resources.ARN"},
        f"audit: trail {name} does not record object reads and writes of data_event_bucket_arns",
    )
    writes = [
        s
        for s in selectors
        if s.get("eventCategory") == ["equals=['Data']"]
        and s.get("resources.type") == ["equals=['AWS::DynamoDB::Table']"]
    ]
    expect(
        found,
        bool(writes) and "var.append_only_table_arns" in str(writes[0].get("resources.ARN")),
        f"audit: trail {name} does not record writes to append_only_table_arns",
    )
    module = named(tree, "module", root / "platform").get("audit", {})
    expect(
        found,
        "table.append_only" in str(module.get("append_only_table_arns", "")),
        "platform: the trail is not given the append-only tables",
    )
    given = str(module.get("data_event_bucket_arns", ""))
    state = str(locals_of(tree, root / "platform").get("state_bucket_arn", ""))
    trail_bucket = re.search(r"aws_s3_bucket\.(\w+)", str(trail.get("s3_bucket_name")))
    for file in sorted(tree):
        text = file.read_text(encoding="utf-8")
        for bucket, reason in ACCESS_LOG_SKIP.findall(text):
            where = f"{file.parent.name}: aws_s3_bucket.{bucket}"
            if file.parent == path.parent and trail_bucket and bucket == trail_bucket.group(1):
                continue  # the trail's own bucket: logging it would log itself
            expect(
                found,
                "CloudTrail" in reason,
                f"{where}: CKV_AWS_18 skipped without CloudTrail as the reason",
            )
            if file.parent.name == "data":
                recorded = "values(module.data.bucket_arns)" in given and _every_bucket(tree, root)
            elif file.parent.name == "bootstrap":
                recorded = "local.state_bucket_arn" in given and "mindlinks-tfstate-" in state
            else:
                recorded = False
            expect(
                found,
                recorded,
                f"{where}: CKV_AWS_18 relies on the trail, which does not record its data events",
            )
    return found


def _every_bucket(tree: Tree, root: Path) -> bool:
    """The data module's bucket_arns output names every bucket it creates."""
    output = named(tree, "output", root / "modules" / "data").get("bucket_arns", {})
    value = str(output.get("value", ""))
    return "aws_s3_bucket.this" in value and " if " not in value


# --- log groups -----------------------------------------------------------------


def log_group_problems(root: Path, tree: Tree) -> list[str]:
    """Services log to /aws/ecs/<name>/<service>; the task definition's awslogs
    driver and the execution role name that same group."""
    found: list[str] = []
    group = resources_in(tree, root / "modules" / "observability").get(
        ("aws_cloudwatch_log_group", "service"), {}
    )
    expect(
        found,
        group.get("name") == "/aws/ecs/${var.name}/${each.key}",
        f"observability: log groups are {group.get('name')!r}, not /aws/ecs/<name>/<service>",
    )
    ecs = root / "modules" / "ecs-service"
    options = locals_of(tree, ecs).get("log_options", {})
    expect(
        found,
        isinstance(options, dict) and options.get("awslogs-group") == "${var.log_group.name}",
        "ecs-service: awslogs does not write the service's log group",
    )
    task = resources_in(tree, ecs).get(("aws_ecs_task_definition", "this"), {})
    expect(
        found,
        str(task.get("container_definitions")).count("local.log_options") == 2,
        "ecs-service: a container does not log with the service's awslogs options",
    )
    writes = [
        statement
        for _, type_, name, body in blocks(tree, "data", ecs)
        if type_ == "aws_iam_policy_document" and name == "execution"
        for statement in policy_statements(body)
        if "logs:PutLogEvents" in as_list(statement.get("actions", []))
    ]
    expect(
        found,
        len(writes) == 1 and writes[0].get("resources") == ["${var.log_group.arn}:*"],
        "ecs-service: the execution role does not write exactly the service's log group",
    )
    return found
