"""Hold every recorded AWS call against its service's task-role policy.

    python -m mindlinks_dev.iam .run/aws-calls/<session>   # report; exit 1 on a refusal

The policy is the one Terraform gives the role (``mindlinks_dev.iam.policy``,
rendered into ``fleet.auto.tfvars.json``). IAM is evaluated as AWS does for
one identity policy: an explicit deny wins, then any allow whose action,
resource and conditions match; nothing else is allowed. Wildcards are IAM's:
``*`` matches any run of characters, ``/`` included, and actions match without
regard to case.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field

from mindlinks_dev.iam.calls import Call, Need, needs
from mindlinks_dev.iam.policy import Statement, task_policy
from mindlinks_kit.declaration import Fleet


def _matches(pattern: str, value: str, *, fold: bool = False) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _conditions_hold(statement: Statement, need: Need) -> bool:
    context = dict(need.context)
    for condition in statement.conditions:
        if condition.test not in ("Bool", "StringEquals"):
            return False  # a condition this check cannot evaluate never allows
        if context.get(condition.variable) not in condition.values:
            return False
    return True


def applies(statement: Statement, need: Need) -> bool:
    return (
        any(_matches(a, need.action, fold=True) for a in statement.actions)
        and any(_matches(r, need.ref) for r in statement.resources)
        and _conditions_hold(statement, need)
    )


def decision(statements: tuple[Statement, ...], need: Need) -> Statement | None:
    """The statement that allows ``need``, or None when it is refused."""
    if any(s.effect == "Deny" and applies(s, need) for s in statements):
        return None
    return next((s for s in statements if s.effect == "Allow" and applies(s, need)), None)


@dataclass
class Findings:
    refused: dict[tuple[str, Need], list[Call]] = field(default_factory=dict)
    """(caller, need) → the calls that needed it."""
    used: set[tuple[str, str, str, str]] = field(default_factory=set)
    """(caller, sid, granted action, granted resource) that allowed some call."""
    unknown_callers: set[str] = field(default_factory=set)
    calls: int = 0

    @property
    def ok(self) -> bool:
        return not self.refused and not self.unknown_callers


def check(fleet: Fleet, calls: list[Call]) -> Findings:
    findings = Findings(calls=len(calls))
    policies: dict[str, tuple[Statement, ...]] = {}
    names = {s.name for s in fleet.services}
    for call in calls:
        if call.caller not in names:
            findings.unknown_callers.add(call.caller)
            continue
        statements = policies.setdefault(call.caller, task_policy(fleet, call.caller))
        for need in needs(call):
            allowing = decision(statements, need)
            if allowing is None:
                findings.refused.setdefault((call.caller, need), []).append(call)
                continue
            for action in allowing.actions:
                for resource in allowing.resources:
                    if _matches(action, need.action, fold=True) and _matches(resource, need.ref):
                        findings.used.add((call.caller, allowing.sid, action, resource))
    return findings


def unused_grants(fleet: Fleet, findings: Findings) -> dict[str, list[tuple[str, str, str]]]:
    """Per service: (sid, action, resource) granted that no recorded call used.
    Deny statements are not grants; a grant used outside the service's code
    (the tracing sidecar's) is not counted."""
    unused: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for service in fleet.services:
        for statement in task_policy(fleet, service.name):
            if statement.effect != "Allow" or statement.used_outside_the_code:
                continue
            for action in statement.actions:
                for resource in statement.resources:
                    if (service.name, statement.sid, action, resource) not in findings.used:
                        unused[service.name].append((statement.sid, action, resource))
    return dict(unused)


def report(fleet: Fleet, findings: Findings, *, with_unused: bool) -> str:
    """The refusals, each with the calls that needed it; with ``with_unused``,
    how many grants no call used, per service (``unused_lines`` lists them)."""
    lines = [f"IAM check: {findings.calls} distinct AWS calls held against the task roles."]
    for caller in sorted(findings.unknown_callers):
        lines.append(f"REFUSED: calls recorded for {caller!r}, which is no service of the fleet")
    refusals = sorted(
        findings.refused.items(), key=lambda kv: (kv[0][0], kv[0][1].action, kv[0][1].ref)
    )
    for (caller, need), calls in refusals:
        lines.append(f"REFUSED: {caller}: {need.action} on {need.ref}, needed by:")
        lines.extend(f"    {call.describe()}" for call in calls[:3])
        if len(calls) > 3:
            lines.append(f"    … and {len(calls) - 3} more")
    if with_unused:
        unused = unused_grants(fleet, findings)
        counts = ", ".join(f"{service} {len(grants)}" for service, grants in sorted(unused.items()))
        lines.append(f"Grants no recorded call used: {sum(map(len, unused.values()))} ({counts})")
    lines.append("IAM check: PASS" if findings.ok else "IAM check: FAIL")
    return "\n".join(lines)


def unused_lines(fleet: Fleet, findings: Findings) -> list[str]:
    return [
        f"{service}: {sid}: {action} on {resource}"
        for service, grants in sorted(unused_grants(fleet, findings).items())
        for sid, action, resource in grants
    ]
