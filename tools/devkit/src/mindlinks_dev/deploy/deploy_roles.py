"""The deploy workflow's AWS roles (infra/terraform/bootstrap), held to the
release process, as functions returning problems (empty: fine):

- ``trust_problems``: each role is assumable only through GitHub's OIDC
  provider, for ``sts.amazonaws.com``, from this repository's deploy workflow
  on the environment's ref (``target.REFS``); the deploy role only inside the
  GitHub environment (``sub`` = ``repo:…:environment:<env>``), the plan role
  from the ref (``sub`` = ``repo:…:ref:…``);
- ``deploy_role_problems``: no AWS managed policy on the roles (no
  AdministratorAccess), no ``*`` or ``<service>:*`` action, IAM only on roles
  and policies named ``<name>-…``, every ``iam:PassRole`` to one named
  service, the roles themselves denied to themselves, the state reached only
  at its own object;
- ``plan_role_problems``: the plan role only reads (and seals its plan);
- ``coverage_problems``: what the platform declares, the deploy role can
  manage: its roles are named ``<name>-…`` and passable to the service that
  assumes them, its managed-policy attachments are on the allow-list, the
  state key is the backend's;
- ``size_problems``: each managed policy fits IAM's 6,144 characters.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks import Tree, blocks, locals_of, resources_in
from mindlinks_dev.deploy.target import REFS

OIDC = "token.actions.githubusercontent.com"
POLICY_LIMIT = 6144
"""IAM's limit for a managed policy, whitespace not counted."""
SIZE_MARGIN = 0.95
"""The estimate below stands in for Terraform's rendering: keep 5 % spare."""
READS = re.compile(r"^[a-z0-9-]+:(Get|List|Describe|Head)[A-Za-z*]*$|^apigateway:GET$")
OBJECT_ACCESS = re.compile(r"^s3:(Get|Put|Delete)Object")
STATE_OBJECT = "${aws_s3_bucket.state.arn}/${local.state_key}"
BROAD_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# What the estimate puts for the interpolations of the bootstrap policies
# (staging: the longest environment name).
EXAMPLE = {
    "${local.partition}": "aws",
    "${var.region}": "eu-west-1",
    "${var.account_id}": "123456789012",
    "${each.value.prefix}": "mindlinks-staging-",
    "${each.value.name}": "mindlinks-staging",
    "${local.iam}": "arn:aws:iam::123456789012",
    "${local.s3}": "arn:aws:s3:::",
    "${local.apigateway}": "arn:aws:apigateway:eu-west-1::",
    "${aws_kms_key.state.arn}": "arn:aws:kms:eu-west-1:123456789012:key/" + "0" * 36,
    "${aws_kms_alias.state.arn}": "arn:aws:kms:eu-west-1:123456789012:alias/mindlinks-tfstate",
    "${aws_s3_bucket.state.arn}": "arn:aws:s3:::mindlinks-tfstate-123456789012",
    "${local.state_key}": "mindlinks/terraform.tfstate",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from body.get("statement", [])


def _allows(statement: Mapping[str, Any]) -> bool:
    return bool(statement.get("effect", "Allow") == "Allow")


def _conditions(statement: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(c.get("variable")): c for c in statement.get("condition", [])}


def _documents(tree: Tree, bootstrap: Path) -> dict[str, dict[str, Any]]:
    return {
        name: body
        for path, type_, name, body in blocks(tree, "data", bootstrap)
        if type_ == "aws_iam_policy_document"
    }


def policy_documents(tree: Tree, bootstrap: Path, role: str) -> dict[str, dict[str, Any]]:
    """The policy documents attached to a role (``deploy`` or ``plan``), as
    ``local.<role>_policies`` lists them."""
    documents = _documents(tree, bootstrap)
    listed = locals_of(tree, bootstrap).get(f"{role}_policies", {})
    names = [
        re.sub(r"^\$\{data\.aws_iam_policy_document\.(\w+)\}$", r"\1", str(v))
        for v in listed.values()
    ]
    return {name: documents.get(name, {}) for name in names}


# --- trust ----------------------------------------------------------------------


def trust_problems(tree: Tree, bootstrap: Path) -> list[str]:
    found: list[str] = []
    refs = locals_of(tree, bootstrap).get("deploy_refs")
    if refs != REFS:
        found.append(f"bootstrap: local.deploy_refs {refs} is not target.REFS {REFS}")
    workflow = str(locals_of(tree, bootstrap).get("deploy_workflow", ""))
    if not workflow.endswith("/.github/workflows/deploy.yml"):
        found.append(f"bootstrap: local.deploy_workflow {workflow!r} is not deploy.yml")
    roles = resources_in(tree, bootstrap)
    documents = _documents(tree, bootstrap)
    for kind, sub in (
        ("deploy", ":environment:${each.key}"),
        ("plan", ":ref:${local.deploy_refs[each.key]}"),
    ):
        role = roles.get(("aws_iam_role", kind))
        if role is None:
            found.append(f"bootstrap: no {kind} role")
            continue
        if role.get("name") != f"${{each.value.name}}-{kind}":
            found.append(
                f"bootstrap: the {kind} role is not named <name>-{kind} (target.py derives it)"
            )
        match = re.fullmatch(
            r"\$\{data\.aws_iam_policy_document\.(\w+)\[each\.key\]\.json\}",
            str(role.get("assume_role_policy")),
        )
        document = documents.get(match.group(1), {}) if match else {}
        trusts = list(statements(document))
        if len(trusts) != 1:
            found.append(f"bootstrap: the {kind} role's trust is not one statement")
            continue
        found += [
            f"bootstrap: {kind} role trust: {p}" for p in _trust_statement_problems(trusts[0], sub)
        ]
    return found


def _trust_statement_problems(statement: Mapping[str, Any], sub: str) -> list[str]:
    found = []
    principals = statement.get("principals", [])
    if _as_list(statement.get("actions")) != ["sts:AssumeRoleWithWebIdentity"] or not any(
        p.get("type") == "Federated"
        and "aws_iam_openid_connect_provider.github" in str(p.get("identifiers"))
        for p in principals
    ):
        found.append("not GitHub's OIDC provider (sts:AssumeRoleWithWebIdentity)")
    conditions = _conditions(statement)
    want = {
        f"{OIDC}:aud": ("StringEquals", ["sts.amazonaws.com"]),
        f"{OIDC}:sub": (None, [f"repo:${{var.github_repository}}{sub}"]),
        f"{OIDC}:ref": ("StringLike", ["${local.deploy_refs[each.key]}"]),
        f"{OIDC}:job_workflow_ref": (
            "StringLike",
            ["${local.deploy_workflow}@${local.deploy_refs[each.key]}"],
        ),
    }
    for variable, (test, values) in want.items():
        condition = conditions.get(variable)
        if condition is None:
            found.append(f"no condition on {variable}")
            continue
        if test is not None and condition.get("test") != test:
            found.append(f"{variable}: {condition.get('test')}, want {test}")
        if _as_list(condition.get("values")) != values:
            found.append(f"{variable}: {condition.get('values')}, want {values}")
    return found


# --- the deploy role ------------------------------------------------------------


def deploy_role_problems(tree: Tree, bootstrap: Path) -> list[str]:
    found = []
    for _, type_, name, body in blocks(tree, "resource", bootstrap):
        arn = str(body.get("policy_arn", ""))
        if type_ == "aws_iam_role_policy_attachment" and not arn.startswith("${aws_iam_policy."):
            found.append(f"bootstrap: {name} attaches {arn}, not a policy of this root")
        for broad in BROAD_POLICIES:
            if broad in json.dumps(body):
                found.append(f"bootstrap: {type_}.{name} names {broad}")
    documents = {
        **policy_documents(tree, bootstrap, "deploy"),
        **policy_documents(tree, bootstrap, "plan"),
    }
    for name, body in documents.items():
        found += [f"bootstrap: {name}: {p}" for p in _statement_problems(body)]
    deploy = policy_documents(tree, bootstrap, "deploy")
    denied = [
        s
        for body in deploy.values()
        for s in statements(body)
        if s.get("effect") == "Deny"
        and any(str(a).startswith("iam:") for a in _as_list(s.get("actions")))
    ]
    guarded = {str(r) for s in denied for r in _as_list(s.get("resources"))}
    for role in ("deploy", "plan"):
        if f"${{local.iam}}:role/${{each.value.name}}-{role}" not in guarded:
            found.append(f"bootstrap: the deploy role may change the {role} role (no Deny on it)")
    if not any(
        "iam:PutRolePolicy" in str(s.get("actions")) or "iam:Put*" in str(s.get("actions"))
        for s in denied
    ):
        found.append("bootstrap: the Deny on the roles themselves does not cover iam:PutRolePolicy")
    return found


def _statement_problems(body: Mapping[str, Any]) -> list[str]:
    found = []
    for statement in statements(body):
        if not _allows(statement):
            continue
        sid = statement.get("sid", "?")
        actions = [str(a) for a in _as_list(statement.get("actions", []))]
        resources = [str(r) for r in _as_list(statement.get("resources", []))]
        for action in actions:
            if action == "*" or action.endswith(":*"):
                found.append(f"{sid}: wildcard action {action}")
        iam = [a for a in actions if a.startswith("iam:")]
        if iam:
            found += [f"{sid}: {p}" for p in _iam_problems(statement, iam, resources)]
        objects = any(OBJECT_ACCESS.match(a) for a in actions)
        if objects and not all(r.startswith(STATE_OBJECT) for r in resources):
            found.append(f"{sid}: object access beyond the state ({resources})")
    return found


def _iam_problems(
    statement: Mapping[str, Any], actions: list[str], resources: list[str]
) -> list[str]:
    found = []
    own = ("${local.iam}:role/${each.value.name}-", "${local.iam}:policy/${each.value.name}-")
    if actions == ["iam:CreateServiceLinkedRole"]:
        if resources != [
            "${local.iam}:role/aws-service-role/*"
        ] or "iam:AWSServiceName" not in _conditions(statement):
            found.append("iam:CreateServiceLinkedRole not limited by iam:AWSServiceName")
        return found
    for resource in resources:
        if not resource.startswith(own):
            found.append(f"IAM on {resource}, not a role or policy named <name>-…")
    if "iam:PassRole" in actions:
        passed = _conditions(statement).get("iam:PassedToService")
        services = _as_list(passed.get("values")) if passed else []
        if passed is None or passed.get("test") != "StringEquals" or len(services) != 1:
            found.append("iam:PassRole without iam:PassedToService naming one service")
        elif services == ["ecs-tasks.amazonaws.com"] and not all(
            r.endswith(("-task", "-execution")) for r in resources
        ):
            found.append(f"iam:PassRole to ecs-tasks of {resources}: only task and execution roles")
        if len(actions) > 1:
            found.append("iam:PassRole shares a statement with other actions")
    return found


# --- the plan role --------------------------------------------------------------


def plan_role_problems(tree: Tree, bootstrap: Path) -> list[str]:
    found = []
    for name, body in policy_documents(tree, bootstrap, "plan").items():
        if not body:
            found.append("bootstrap: no plan policy document")
        for statement in statements(body):
            if not _allows(statement):
                continue
            for action in map(str, _as_list(statement.get("actions", []))):
                if READS.match(action) or _sealing_or_decrypting(action, statement):
                    continue
                found.append(
                    f"bootstrap: {name}: {statement.get('sid', '?')}: {action} is not a read"
                )
    return found


def _sealing_or_decrypting(action: str, statement: Mapping[str, Any]) -> bool:
    """kms:Decrypt through Secrets Manager/SSM or of the state; a data key of
    the state key only for sealing the plan (its encryption context)."""
    resources = _as_list(statement.get("resources"))
    state_key = resources == ["${aws_kms_key.state.arn}"]
    conditions = _conditions(statement)
    if action == "kms:Decrypt":
        return state_key or "kms:ViaService" in conditions
    if action == "kms:GenerateDataKey":
        return state_key and "kms:EncryptionContext:purpose" in conditions
    return False


# --- what the platform declares -------------------------------------------------


def _as_pattern(name: str) -> str:
    """A Terraform name or ARN with its interpolations as glob wildcards,
    ``NAME`` standing for the environment's name."""
    name = re.sub(r"\$\{(each\.value\.name|var\.name|local\.name)\}", "NAME", name)
    name = re.sub(r"\$\{(each\.value\.prefix|var\.resource_prefix)\}", "NAME-", name)
    name = name.replace("${local.iam}:role/", "")
    name = re.sub(r"\$\{local\.arn\.([a-z0-9-]+)\}", r"arn:\1", name)
    for head, value in (("s3", "arn:s3:::"), ("iam", "arn:iam"), ("apigateway", "arn:apigateway")):
        name = name.replace(f"${{local.{head}}}", value)
    # What is not a name stays itself (never a wildcard that would match anything).
    name = re.sub(
        r"\$\{(local\.partition|var\.account_id|var\.region|aws_[a-z0-9_.]+)\}", "_", name
    )
    return re.sub(r"\$\{[^}]*\}", "*", name)


NAMED = {
    "aws_cloudwatch_log_group": ("name", "arn:logs:log-group:{}"),
    "aws_s3_bucket": ("bucket", "arn:s3:::{}"),
    "aws_dynamodb_table": ("name", "arn:dynamodb:table/{}"),
    "aws_sqs_queue": ("name", "arn:sqs:{}"),
    "aws_sns_topic": ("name", "arn:sns:{}"),
    "aws_ecr_repository": ("name", "arn:ecr:repository/{}"),
    "aws_secretsmanager_secret": ("name", "arn:secretsmanager:secret:{}-AbCdEf"),
    "aws_ssm_parameter": ("name", "arn:ssm:parameter{}"),
    "aws_kms_alias": ("name", "arn:kms:{}"),
    "aws_cloudwatch_metric_alarm": ("alarm_name", "arn:cloudwatch:alarm:{}"),
    "aws_lb": ("name", "arn:elasticloadbalancing:loadbalancer/app/{}/1"),
    "aws_lb_target_group": ("name", "arn:elasticloadbalancing:targetgroup/{}/1"),
    "aws_ecs_cluster": ("name", "arn:ecs:cluster/{}"),
    "aws_ecs_task_definition": ("family", "arn:ecs:task-definition/{}:1"),
    "aws_cloudwatch_event_bus": ("name", "arn:events:event-bus/{}"),
    "aws_scheduler_schedule_group": ("name", "arn:scheduler:schedule-group/{}"),
    "aws_cloudtrail": ("name", "arn:cloudtrail:trail/{}"),
    "aws_backup_vault": ("name", "arn:backup:backup-vault:{}"),
    "aws_elasticache_replication_group": (
        "replication_group_id",
        "arn:elasticache:replicationgroup:{}",
    ),
    "aws_elasticache_subnet_group": ("name", "arn:elasticache:subnetgroup:{}"),
}
"""Resource types whose ARN carries the name Terraform gives them: the
attribute holding it and the ARN (account and region left out)."""


def _example(name: str, module_locals: Mapping[str, Any]) -> str:
    """A name as the platform declares it, with the environment's name for
    ``NAME`` and ``x`` for everything else (a service, a table…)."""
    for local, value in module_locals.items():
        if local != "name":  # the platform's local.name is the name itself
            name = name.replace(f"${{local.{local}}}", str(value))
    name = re.sub(r'\$\{substr\("(.*?)", 0, \d+\)\}', r"\1", name)
    return _as_pattern(name).replace("*", "x")


def _deploy_patterns(tree: Tree, bootstrap: Path) -> list[str]:
    """The deploy role's Allow resources as globs ("*" left out: it stands for
    the actions AWS authorizes on "*" alone, never for a named resource)."""
    return [
        _as_pattern(str(resource))
        for body in policy_documents(tree, bootstrap, "deploy").values()
        for statement in statements(body)
        if _allows(statement)
        for resource in _as_list(statement.get("resources", []))
        if resource != "*"
    ]


def coverage_problems(tree: Tree, root: Path) -> list[str]:
    found = []
    bootstrap = root / "bootstrap"
    platform = [
        p for p in tree if p.parent.parent == root / "modules" or p.parent == root / "platform"
    ]
    patterns = _deploy_patterns(tree, bootstrap)
    for path, type_, name, body in blocks(tree, "resource"):
        if path not in platform:
            continue
        where = f"{path.parent.name}: {type_}.{name}"
        if type_ == "aws_iam_role":
            found += _role_problems(tree, bootstrap, platform, path, where, body)
        if type_ == "aws_iam_role_policy_attachment":
            found += _attachment_problems(tree, bootstrap, where, body)
        if type_ in NAMED and NAMED[type_][0] in body:
            attribute, arn = NAMED[type_]
            example = arn.format(_example(str(body[attribute]), locals_of(tree, path.parent)))
            if not any(fnmatch.fnmatchcase(example, pattern) for pattern in patterns):
                found.append(f"{where} ({body[attribute]}) is beyond the deploy role's names")
    state_key = locals_of(tree, bootstrap).get("state_key")
    backend = (tree.get(root / "envs" / "common" / "main.tf", {}).get("terraform") or [{}])[0].get(
        "backend", [{}]
    )
    key = backend[0].get("s3", {}).get("key") if backend else None
    if state_key != key:
        found.append(f"bootstrap: local.state_key {state_key!r} is not the backend's key {key!r}")
    return found


def _role_problems(
    tree: Tree,
    bootstrap: Path,
    platform: list[Path],
    path: Path,
    where: str,
    body: Mapping[str, Any],
) -> list[str]:
    """A platform role is named <name>-… and passable to the service it trusts."""
    role = str(body.get("name", ""))
    if not re.match(r"^\$\{(var|local)\.name\}-", role):
        return [f"{where} ({role}) is not named <name>-…"]
    service = _assumed_by(tree, platform).get((path.parent, str(body.get("assume_role_policy"))))
    if service is None:
        return []
    for document in policy_documents(tree, bootstrap, "deploy").values():
        for statement in statements(document):
            if not _allows(statement) or _as_list(statement.get("actions")) != ["iam:PassRole"]:
                continue
            passed = _conditions(statement).get("iam:PassedToService", {})
            for resource in _as_list(statement.get("resources")):
                glob = _as_pattern(str(resource))
                if fnmatch.fnmatchcase(_example(role, {}), glob) and service in _as_list(
                    passed.get("values")
                ):
                    return []
    return [f"{where} ({role}) cannot be passed to {service}"]


def _attachment_problems(
    tree: Tree, bootstrap: Path, where: str, body: Mapping[str, Any]
) -> list[str]:
    """Managed policies attach from the deploy role's allow-list only."""
    arn = str(body.get("policy_arn", ""))
    if ":iam::aws:policy/" not in arn:
        return []
    tail = arn.split(":iam::aws:policy/")[-1]
    # for_each over a literal list of policy names: each of them
    names = re.findall(r'"([^"]+)"', str(body.get("for_each", "")))
    tails = [tail.replace("${each.value}", n) for n in names] if "${each.value}" in tail else [tail]
    allowed = [
        str(a).split(":iam::aws:policy/")[-1]
        for a in locals_of(tree, bootstrap).get("attachable_policies", [])
    ]
    return [
        f"{where} attaches {t}, not in local.attachable_policies" for t in tails if t not in allowed
    ]


def _assumed_by(tree: Tree, files: list[Path]) -> dict[tuple[Path, str], str]:
    """(directory, ``${data.aws_iam_policy_document.X.json}``) → the service
    principal that document trusts."""
    found = {}
    for path in files:
        for entry in tree[path].get("data", []):
            for name, body in entry.get("aws_iam_policy_document", {}).items():
                for statement in statements(body):
                    for principal in statement.get("principals", []):
                        if principal.get("type") == "Service":
                            service = str(_as_list(principal.get("identifiers"))[0])
                            reference = f"${{data.aws_iam_policy_document.{name}.json}}"
                            found[(path.parent, reference)] = service
    return found


# --- size -----------------------------------------------------------------------


def estimated_size(body: Mapping[str, Any], local_values: Mapping[str, Any]) -> int:
    """The policy's JSON length (no whitespace) with the interpolations given
    example values: near what Terraform renders and IAM counts."""
    rendered = []
    for statement in statements(body):
        entry: dict[str, Any] = {
            "Sid": statement.get("sid", ""),
            "Effect": statement.get("effect", "Allow"),
            "Action": _as_list(statement.get("actions", [])),
            "Resource": _as_list(statement.get("resources", [])),
        }
        if statement.get("condition"):
            entry["Condition"] = {
                str(c.get("test")): {str(c.get("variable")): c.get("values")}
                for c in statement["condition"]
            }
        rendered.append(entry)
    text = json.dumps({"Version": "2012-10-17", "Statement": rendered}, separators=(",", ":"))
    text = text.replace(
        "${concat(local.attachable_policies, [",
        json.dumps(local_values.get("attachable_policies", []))[1:-1] + ",",
    )
    for service in local_values.get("arn", {}):
        text = text.replace(
            f"${{local.arn.{service}}}", f"arn:aws:{service}:eu-west-1:123456789012"
        )
    for placeholder, value in EXAMPLE.items():
        text = text.replace(placeholder, value)
    return len(re.sub(r"\s", "", text))


def size_problems(tree: Tree, bootstrap: Path) -> list[str]:
    values = locals_of(tree, bootstrap)
    found = []
    for role in ("deploy", "plan"):
        for name, body in policy_documents(tree, bootstrap, role).items():
            size = estimated_size(body, values)
            limit = int(POLICY_LIMIT * SIZE_MARGIN)
            if size > limit:
                found.append(f"bootstrap: {name}: about {size} characters, over {limit}")
    return found


def problems(tree: Tree, root: Path) -> list[str]:
    """Every check of this module on the Terraform tree at ``root``."""
    bootstrap = root / "bootstrap"
    return (
        trust_problems(tree, bootstrap)
        + deploy_role_problems(tree, bootstrap)
        + plan_role_problems(tree, bootstrap)
        + coverage_problems(tree, root)
        + size_problems(tree, bootstrap)
    )
