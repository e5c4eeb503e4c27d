"""infra/terraform, statically: formatted, parsed, wired to the generated
fleet variables, least-privilege IAM, encryption everywhere, checkov clean."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from mindlinks_dev.deploy import checks, hclfmt, terraform, validate
from mindlinks_dev.iam import rules
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Timer

from .conftest import replace_in


def test_every_file_is_formatted(terraform_root: Path) -> None:
    found = {
        str(path): hclfmt.problems(path.read_text(encoding="utf-8"))
        for path in hclfmt.hcl_files([terraform_root])
    }
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_every_file_parses(tree: checks.Tree, terraform_root: Path) -> None:
    expected = {p for p in terraform_root.rglob("*.tf*") if p.suffix in (".tf", ".tfvars")}
    assert set(tree) == expected


def test_every_service_gets_its_resources_through_for_each(
    terraform_root: Path, tree: checks.Tree
) -> None:
    assert checks.wiring_problems(terraform_root, tree, FLEET) == []


def test_iam_is_least_privilege(root: Path, tree: checks.Tree) -> None:
    assert checks.iam_problems(tree) == []
    variables = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    assert rules.problems(variables, FLEET) == []


def test_every_data_store_is_encrypted(tree: checks.Tree) -> None:
    assert checks.encryption_problems(tree) == []


def test_services_scale_out_at_70_and_in_at_30_percent(
    terraform_root: Path, tree: checks.Tree
) -> None:
    """CPU, memory and requests per target (both blue/green target groups)."""
    assert checks.autoscaling_problems(tree, terraform_root) == []


def test_every_subnet_has_a_network_acl_with_the_platforms_flows_only(
    terraform_root: Path, tree: checks.Tree
) -> None:
    assert checks.network_acl_problems(terraform_root, tree, FLEET) == []


def test_the_trail_records_the_buckets_whose_access_logs_it_replaces(
    terraform_root: Path, tree: checks.Tree
) -> None:
    variables = json.loads((terraform_root / "fleet.auto.tfvars.json").read_text())
    assert {"kyc-documents", "contract-documents"} <= set(variables["buckets"])
    assert checks.trail_problems(terraform_root, tree) == []


def test_every_table_and_the_ledger_bucket_are_backed_up(
    root: Path, terraform_root: Path, tree: checks.Tree
) -> None:
    variables = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    assert variables["buckets"]["ledger-digests"]["object_lock"] is True
    assert checks.backup_problems(terraform_root, tree, variables) == []


def test_services_log_to_aws_ecs_groups(terraform_root: Path, tree: checks.Tree) -> None:
    assert checks.log_group_problems(terraform_root, tree) == []


def test_checkov_passes_with_every_suppression_explained(root: Path, terraform_root: Path) -> None:
    expect = validate.checkov_expected(terraform_root)
    assert validate.checkov_problems(terraform_root, root, expect) == []
    skips = [
        line.strip()
        for path in terraform_root.rglob("*.tf")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "checkov:skip=" in line
    ]
    assert skips
    for skip in skips:
        check, _, reason = skip.partition("checkov:skip=")[2].partition(":")
        assert check.startswith(("CKV_", "CKV2_")), skip
        assert len(reason) > 20, f"a suppression needs its reason: {skip}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # alignment of consecutive attributes, broken by a blank line or a block
        ('a = 1\nlonger = "x"\n\nb = 2\n', 'a      = 1\nlonger = "x"\n\nb = 2\n'),
        # indentation by bracket depth
        ('r "t" "n" {\nx = [\n1,\n]\n}\n', 'r "t" "n" {\n  x = [\n    1,\n  ]\n}\n'),
        # spaces between tokens: commas, braces, calls, dots, negation
        (
            "x = [1,2]\ny = {a=1}\nz = f( a . b )\nw = - 1\n",
            "x = [1, 2]\ny = { a = 1 }\nz = f(a.b)\nw = -1\n",
        ),
        # a multi-line value ends the alignment chain
        ("ab = 1\nc = {\nd = 2\n}\n", "ab = 1\nc = {\n  d = 2\n}\n"),
        # trailing comments align too; interpolations are tight
        (
            'a = "${ var.x }" # one\nbb = 2 # two\n',
            'a  = "${var.x}" # one\nbb = 2          # two\n',
        ),
        ("x = !var.y\nz = [for v in [a] : v]\n", "x = !var.y\nz = [for v in [a] : v]\n"),
    ],
)
def test_formatter_matches_terraform_fmt(source: str, expected: str) -> None:
    """Cases checked against hclwrite (the Go formatter terraform fmt uses)."""
    assert hclfmt.format_hcl(source) == expected
    assert hclfmt.format_hcl(expected) == expected


def test_append_only_tables_cannot_be_rewritten_by_their_task_role(
    root: Path, tree: checks.Tree
) -> None:
    """The admin's audit trail and the ledger's journal: their task role may
    put and read, never update or delete (explicitly denied)."""
    variables = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    append_only = {name for name, table in variables["tables"].items() if table["append_only"]}
    assert {"admin-audit", "ledger-journal"} <= append_only
    assert "ledger-heads" not in append_only  # the journal's mutable tip and keys live here
    assert checks.append_only_problems(tree, variables, FLEET) == []


def test_a_rewritable_append_only_table_is_caught(root: Path, terraform_copy: Path) -> None:
    variables = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    policy = variables["task_policies"]["ledger"]
    allow = next(s for s in policy if s["sid"] == "OwnAppendOnlyTables")
    allow["actions"].append("dynamodb:UpdateItem")
    deny = next(s for s in policy if s["sid"] == "NeverRewriteAppendOnlyTables")
    deny["actions"] = [
        a for a in deny["actions"] if a not in ("dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
    ]
    replace_in(terraform_copy / "modules/data/dynamodb.tf", '"dynamodb:DeleteItem", ', "")
    replace_in(terraform_copy / "modules/data/dynamodb.tf", "-task", "-execution")
    variables["tables"]["ledger-journal"]["append_only"] = False
    problems = checks.append_only_problems(checks.parse_tree(terraform_copy), variables, FLEET)
    assert "tables: ledger-journal is append-only but its variable says False" in problems
    assert (
        "ledger: OwnAppendOnlyTables: allows dynamodb:UpdateItem on table/ledger-journal"
        in problems
    )
    assert (
        "ledger: does not deny ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem']"
        " on table/ledger-journal" in problems
    )
    assert "data: the append-only resource policy does not deny ['dynamodb:DeleteItem']" in problems
    assert "data: puts on append-only tables are not left to the owner's task role" in problems


def test_a_service_with_timers_gets_its_schedules_and_the_schedulers_role(
    terraform_root: Path,
) -> None:
    timed_payment = dataclasses.replace(FLEET.service("payment"), timers=(Timer("some.deadline"),))
    timed = dataclasses.replace(
        FLEET,
        services=tuple(timed_payment if s.name == "payment" else s for s in FLEET.services),
    )
    variables = terraform.variables(timed)
    assert variables["services"]["payment"]["timers"] is True
    assert variables["subscriptions"]["payment"]["timers"] is True
    assert variables["subscriptions"]["ledger"]["timers"] is False
    assert "payment-timers" in variables["services"]["payment"]["tables"]
    assert rules.problems(variables, timed) == []
    refs = {
        ref for statement in variables["task_policies"]["payment"] for ref in statement["resources"]
    }
    assert {"schedule/timers/payment-*", "role/timers"} <= refs
    # The platform resolves both references (task_roles.tf, resource_arns).
    resolver = (terraform_root / "platform" / "task_roles.tf").read_text(encoding="utf-8")
    assert '"schedule/timers/${name}-*"' in resolver
    assert '"role/timers"' in resolver
    assert "if queue.timers" in resolver
    # The scheduler's role may only be passed, and only to the scheduler.
    for statement in variables["task_policies"]["payment"]:
        if "role/timers" in statement["resources"]:
            statement["conditions"] = []
    assert any("beyond iam:PassRole" in p for p in rules.problems(variables, timed))
