"""Autoscaling: out on CPU, memory and requests per target at 70 %, in at 30 %."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import (
    Tree,
    expect,
    first_block,
    locals_of,
    named,
    resources_in,
)

SCALE_OUT_PERCENT = 70
SCALE_IN_PERCENT = 30
"""DESIGN §9 and issue 11: out at 70 %, in at 30 %."""

TARGET_TRACKING = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "requests": "ALBRequestCountPerTarget",
}


def autoscaling_problems(tree: Tree, root: Path) -> list[str]:
    """Each service scales out on CPU, memory and requests per target (one
    policy per blue/green target group) at 70 %, target tracking only adding
    tasks, and scales in through one step policy whose alarm fires at 30 %."""
    found: list[str] = []
    module = root / "modules" / "ecs-service"
    ecs = resources_in(tree, module)
    variables = named(tree, "variable", module)
    expect(
        found,
        variables.get("scale_out_percent", {}).get("default") == SCALE_OUT_PERCENT,
        f"autoscaling: scale_out_percent is not {SCALE_OUT_PERCENT} %",
    )
    expect(
        found,
        variables.get("scale_in_percent", {}).get("default") == SCALE_IN_PERCENT,
        f"autoscaling: scale_in_percent is not {SCALE_IN_PERCENT} %",
    )
    for name, metric_type in TARGET_TRACKING.items():
        policy = ecs.get(("aws_appautoscaling_policy", name))
        if policy is None:
            found.append(f"autoscaling: no target tracking on {name}")
            continue
        tracking = first_block(policy, "target_tracking_scaling_policy_configuration")
        metric = first_block(tracking, "predefined_metric_specification")
        expect(
            found,
            policy.get("policy_type") == "TargetTrackingScaling"
            and metric.get("predefined_metric_type") == metric_type,
            f"autoscaling: {name} policy does not track {metric_type}",
        )
        # Scale-in belongs to the 30 % step policy; target tracking would
        # remove tasks near 63 % already.
        expect(
            found,
            tracking.get("disable_scale_in") is True,
            f"autoscaling: {name} target tracking also scales in",
        )
        target = str(tracking.get("target_value"))
        wanted = "local.request_target" if name == "requests" else "var.scale_out_percent"
        expect(found, wanted in target, f"autoscaling: {name} target is {target}, not {wanted}")
    request_policy = ecs.get(("aws_appautoscaling_policy", "requests"), {})
    label = str(
        first_block(
            first_block(request_policy, "target_tracking_scaling_policy_configuration"),
            "predefined_metric_specification",
        ).get("resource_label")
    )
    expect(
        found,
        request_policy.get("for_each") == "${aws_lb_target_group.this}"
        and "var.load_balancer.arn_suffix" in label
        and "each.value.arn_suffix" in label,
        "autoscaling: requests are not tracked on both blue/green target groups",
    )
    target = str(locals_of(tree, module).get("request_target", ""))
    expect(
        found,
        "var.scale_out_percent" in target,
        "autoscaling: the request target is not scale_out_percent of a task's capacity",
    )
    found += _scale_in_problems(ecs)
    return found


def _scale_in_problems(ecs: Mapping[tuple[str, str], dict[str, Any]]) -> list[str]:
    found: list[str] = []
    policy = ecs.get(("aws_appautoscaling_policy", "scale_in"))
    if policy is None:
        return ["autoscaling: no scale-in policy"]
    step = first_block(policy, "step_scaling_policy_configuration")
    adjustment = first_block(step, "step_adjustment")
    expect(
        found,
        policy.get("policy_type") == "StepScaling"
        and isinstance(adjustment.get("scaling_adjustment"), int)
        and adjustment["scaling_adjustment"] < 0,
        "autoscaling: the scale-in policy does not remove tasks",
    )
    alarms = [
        body
        for (type_, _), body in ecs.items()
        if type_ == "aws_cloudwatch_metric_alarm"
        and "aws_appautoscaling_policy.scale_in.arn" in str(body.get("alarm_actions"))
    ]
    if not alarms:
        return [*found, "autoscaling: no alarm triggers the scale-in policy"]
    alarm = alarms[0]
    expect(
        found,
        alarm.get("comparison_operator") == "LessThanOrEqualToThreshold"
        and alarm.get("threshold") == "${var.scale_in_percent}",
        "autoscaling: the scale-in alarm is not at or under scale_in_percent",
    )
    text = str(alarm.get("metric_query")) + str(alarm.get("dynamic"))
    for metric in ("CPUUtilization", "RequestCountPerTarget"):
        expect(found, metric in text, f"autoscaling: the scale-in alarm ignores {metric}")
    expect(
        found,
        "aws_lb_target_group.this" in text,
        "autoscaling: the scale-in alarm does not read both target groups",
    )
    return found
