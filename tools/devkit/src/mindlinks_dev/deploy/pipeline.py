"""The release pipeline's rules, checked on the workflow files (loaded YAML),
as functions returning problems (empty: fine):

- ``gate_problems``: ci.yml is callable, deploy.yml calls it, and every job
  that plans, pushes or applies needs it (directly or through other jobs);
- ``concurrency_problems``: one deploy run at a time per environment, never
  cancelled, the group computed from the ref as ``target.REFS`` maps it;
- ``role_problems``: the plan job uses the plan role outside any GitHub
  environment; every job using the deploy role runs inside the environment;
  no other credentials;
- ``apply_problems``: the plan is made read-only (``-lock=false``), saved,
  sealed and handed over; the apply job opens exactly that plan and applies
  it, nothing else;
- ``supply_chain_problems``: pip-audit over constraints.txt in CI; Trivy
  failing on CRITICAL in CI's image builds and before every push, on the
  pushed image; every action pinned by commit;
- ``rollout_problems``: one job per service (fail-fast off) deploys it with
  deploy-service.sh, whose smoke test rolls back that service only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mindlinks_dev.deploy.target import environment_of

Workflow = Mapping[Any, Any]
CI_CALL = "./.github/workflows/ci.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
ACTS = re.compile(r"terraform (plan|apply)|docker push|--push\b|deploy-service\.sh")
SAMPLE_REFS = ("refs/heads/main", "refs/heads/release/2026.12", "refs/tags/v1.4.0")
CREDENTIALS = ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "secrets.AWS")


def triggers(workflow: Workflow) -> Mapping[str, Any]:
    """``on:`` (YAML 1.1 reads the bare key as ``True``)."""
    value = workflow.get(True, workflow.get("on", {}))
    return value if isinstance(value, Mapping) else {str(value): None}


def jobs(workflow: Workflow) -> Mapping[str, Any]:
    value = workflow.get("jobs", {})
    return value if isinstance(value, Mapping) else {}


def _needs(job: Mapping[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def upstream(workflow: Workflow, name: str) -> set[str]:
    """Every job ``name`` waits for, directly or not."""
    seen: set[str] = set()
    todo = _needs(jobs(workflow).get(name, {}))
    while todo:
        job = todo.pop()
        if job not in seen:
            seen.add(job)
            todo += _needs(jobs(workflow).get(job, {}))
    return seen


def steps(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(job.get("steps", []))


def _runs(job: Mapping[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def _roles(job: Mapping[str, Any]) -> Iterator[str]:
    for step in steps(job):
        if "configure-aws-credentials" in str(step.get("uses", "")):
            yield str(step.get("with", {}).get("role-to-assume", ""))


def acting_jobs(workflow: Workflow) -> list[str]:
    """Jobs that reach AWS, plan, push or apply."""
    return [
        name for name, job in jobs(workflow).items() if list(_roles(job)) or ACTS.search(_runs(job))
    ]


def gate_problems(ci: Workflow, deploy: Workflow) -> list[str]:
    found = []
    if "workflow_call" not in triggers(ci):
        found.append("ci.yml: not callable (on: workflow_call)")
    calls = [name for name, job in jobs(deploy).items() if job.get("uses") == CI_CALL]
    if not calls:
        found.append(f"deploy.yml: no job uses {CI_CALL}")
        return found
    for name in acting_jobs(deploy):
        if not set(calls) & upstream(deploy, name):
            found.append(f"deploy.yml: job {name} does not need the CI job ({calls[0]})")
    return found


def concurrency_problems(deploy: Workflow) -> list[str]:
    found = []
    concurrency = deploy.get("concurrency") or {}
    group = str(concurrency.get("group", ""))
    if concurrency.get("cancel-in-progress") is not False:
        found.append("deploy.yml: a deploy run may be cancelled (cancel-in-progress is not false)")
    picks = re.findall(r"startsWith\(github\.ref, '([^']+)'\) && '(\w+)'", group)
    default = re.search(r"\|\| '(\w+)' \}\}$", group)
    if not group.startswith("deploy-${{") or not picks or default is None:
        found.append(f"deploy.yml: concurrency group {group!r} is not deploy-<environment>")
        return found
    for ref in SAMPLE_REFS:
        computed = next((env for prefix, env in picks if ref.startswith(prefix)), default.group(1))
        wanted = environment_of(ref)
        if computed != wanted:
            found.append(f"deploy.yml: concurrency group puts {ref} in {computed}, not {wanted}")
    return found


def role_problems(deploy: Workflow) -> list[str]:
    found = []
    text = repr(deploy)
    for credential in CREDENTIALS:
        if credential in text:
            found.append(f"deploy.yml: stored credentials ({credential})")
    for name, job in jobs(deploy).items():
        for role in _roles(job):
            if role == "${{ needs.target.outputs.plan-role }}":
                if job.get("environment"):
                    found.append(f"deploy.yml: {name}: the plan role inside an environment")
            elif role == "${{ needs.target.outputs.deploy-role }}":
                if not job.get("environment"):
                    found.append(
                        f"deploy.yml: {name}: the deploy role outside the GitHub environment"
                    )
            else:
                found.append(
                    f"deploy.yml: {name}: role {role!r} is neither target's plan nor deploy role"
                )
        if list(_roles(job)) and job.get("permissions", {}).get("id-token") != "write":
            found.append(f"deploy.yml: {name}: assumes a role without id-token: write")
    if deploy.get("permissions", {}).get("id-token"):
        found.append("deploy.yml: id-token granted to every job (grant it per job)")
    return found


def apply_problems(deploy: Workflow) -> list[str]:
    found = []
    all_jobs = jobs(deploy)
    planning = [n for n, j in all_jobs.items() if "terraform plan" in _runs(j)]
    applying = [n for n, j in all_jobs.items() if "terraform apply" in _runs(j)]
    if len(planning) != 1 or len(applying) != 1:
        return [f"deploy.yml: want one plan job and one apply job, found {planning} and {applying}"]
    plan, apply = all_jobs[planning[0]], all_jobs[applying[0]]
    plan_runs, apply_runs = _runs(plan), _runs(apply)
    command = re.search(r"terraform plan [^\n]*", plan_runs)
    for needle in ("-lock=false", "-out=tfplan"):
        if command is None or needle not in command.group(0):
            found.append(f"deploy.yml: {planning[0]}: terraform plan without {needle}")
    if "terraform validate" not in plan_runs:
        found.append(f"deploy.yml: {planning[0]}: no terraform validate")
    if "plan-artifact.sh seal" not in plan_runs or not any(
        "upload-artifact" in str(s.get("uses", "")) for s in steps(plan)
    ):
        found.append(f"deploy.yml: {planning[0]}: the plan is not sealed and uploaded")
    if planning[0] not in _needs(apply):
        found.append(f"deploy.yml: {applying[0]} does not need {planning[0]}")
    opened = f"${{{{ needs.{planning[0]}.outputs.sha256 }}}}"
    if "plan-artifact.sh open" not in apply_runs or opened not in apply_runs:
        found.append(f"deploy.yml: {applying[0]}: does not open the plan {planning[0]} made")
    applied = re.findall(r"terraform apply [^\n]*", apply_runs)
    if (
        len(applied) != 1
        or not applied[0].endswith(" tfplan")
        or re.search(r" -(var|auto-approve|target)", applied[0])
    ):
        found.append(f"deploy.yml: {applying[0]}: does not apply exactly the saved plan: {applied}")
    if "terraform plan" in apply_runs:
        found.append(
            f"deploy.yml: {applying[0]}: plans again instead of applying the reviewed plan"
        )
    if "-lockfile=readonly" not in apply_runs:
        found.append(f"deploy.yml: {applying[0]}: providers not held to the plan's lock file")
    return found


def _trivy_blocks_critical(step: Mapping[str, Any]) -> bool:
    settings = step.get("with", {})
    return (
        str(step.get("uses", "")).startswith("aquasecurity/trivy-action@")
        and str(settings.get("exit-code")) == "1"
        and "CRITICAL" in str(settings.get("severity", ""))
    )


def supply_chain_problems(ci: Workflow, deploy: Workflow) -> list[str]:
    found = []
    if not any(
        "pip-audit" in _runs(job) and "--requirement constraints.txt" in _runs(job)
        for job in jobs(ci).values()
    ):
        found.append("ci.yml: no pip-audit over constraints.txt")
    builds = [
        n
        for n, j in jobs(ci).items()
        if "docker buildx build" in _runs(j) and "matrix" in j.get("strategy", {})
    ]
    for name in builds:
        if not any(_trivy_blocks_critical(s) for s in steps(jobs(ci)[name])):
            found.append(f"ci.yml: {name}: images not scanned (Trivy, exit-code 1 on CRITICAL)")
    for name, job in jobs(deploy).items():
        pushed = [
            i
            for i, s in enumerate(steps(job))
            if re.search(r"docker push|--push\b", str(s.get("run", "")))
        ]
        if not pushed:
            continue
        scans = [i for i, s in enumerate(steps(job)) if _trivy_blocks_critical(s)]
        if not scans or min(scans) > pushed[0]:
            found.append(
                f"deploy.yml: {name}: pushes without a Trivy scan failing on CRITICAL first"
            )
            continue
        image = str(steps(job)[scans[0]].get("with", {}).get("image-ref"))
        if image not in str(steps(job)[pushed[0]].get("run")):
            found.append(f"deploy.yml: {name}: Trivy scans {image}, not the pushed image")
    for workflow, document in (("ci.yml", ci), ("deploy.yml", deploy)):
        for name, job in jobs(document).items():
            for step in steps(job):
                action = str(step.get("uses", ""))
                if action and not action.startswith("./") and not PINNED.match(action):
                    found.append(f"{workflow}: {name}: {action} is not pinned by commit")
    return found


def rollout_problems(deploy: Workflow) -> list[str]:
    found = []
    rollouts = [n for n, j in jobs(deploy).items() if "deploy-service.sh" in _runs(j)]
    if len(rollouts) != 1:
        return [f"deploy.yml: want one job running deploy-service.sh, found {rollouts}"]
    job = jobs(deploy)[rollouts[0]]
    strategy = job.get("strategy", {})
    if strategy.get("fail-fast") is not False:
        found.append(
            f"deploy.yml: {rollouts[0]}: one service's failure cancels the others (fail-fast)"
        )
    if "needs.target.outputs.matrix" not in str(strategy.get("matrix")):
        found.append(f"deploy.yml: {rollouts[0]}: not one job per service of the fleet")
    step = next(s for s in steps(job) if "deploy-service.sh" in str(s.get("run", "")))
    if step.get("env", {}).get("SERVICE") != "${{ matrix.service }}":
        found.append(
            f"deploy.yml: {rollouts[0]}: deploy-service.sh is not given its matrix service"
        )
    return found


def problems(ci: Workflow, deploy: Workflow) -> list[str]:
    return (
        gate_problems(ci, deploy)
        + concurrency_problems(deploy)
        + role_problems(deploy)
        + apply_problems(deploy)
        + supply_chain_problems(ci, deploy)
        + rollout_problems(deploy)
    )
