"""The permission check: recorded AWS calls → IAM needs → the task roles."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.iam import calls as iam_calls
from mindlinks_dev.iam.calls import Call, Need, needs, read_calls
from mindlinks_dev.iam.check import check, decision, report, unused_grants
from mindlinks_dev.iam.policy import Condition, Statement, task_policy
from mindlinks_fleet import FLEET
from mindlinks_kit.aws import CallLog, call_targets, made_by_a_test
from mindlinks_kit.declaration import Timer

PREFIX = "t1234abcd-"


def call(caller: str, api: str, operation: str, presigned: bool = False, **targets: Any) -> Call:
    return Call(caller, PREFIX, api, operation, presigned, targets)


# --- what the kit records --------------------------------------------------------


def test_only_names_are_recorded_never_items_or_secrets() -> None:
    targets = call_targets(
        {
            "TableName": f"{PREFIX}ledger-heads",
            "Item": {"secret": {"S": "never recorded"}},
            "TransactItems": [
                {"Put": {"TableName": "a", "Item": {}}},
                {"ConditionCheck": {"TableName": "b", "Key": {}}},
            ],
        }
    )
    assert targets == {
        "TableName": f"{PREFIX}ledger-heads",
        "TransactItems": [("ConditionCheck", "b"), ("Put", "a")],
    }
    assert call_targets({"Entries": [{"EventBusName": "bus", "Detail": "{}"}]}) == {
        "EventBusNames": ["bus"]
    }
    assert "EventBusNames" not in call_targets({"QueueUrl": "u", "Entries": [{"Id": "1"}]})


def test_a_tests_own_call_is_not_the_services() -> None:
    assert made_by_a_test()  # this very file
    namespace: dict[str, Any] = {"made_by_a_test": made_by_a_test}
    code = compile("def service_code():\n    return made_by_a_test()\n", "/srv/x/store.py", "exec")
    exec(code, namespace)  # noqa: S102 - code of our own, filed under a service-like path
    assert namespace["service_code"]() is False


def test_the_call_log_writes_each_distinct_call_once(tmp_path: Path) -> None:
    log = CallLog(str(tmp_path), FLEET.name, "ledger", PREFIX)
    model = type(
        "Model",
        (),
        {
            "name": "GetItem",
            "service_model": type(
                "S", (), {"service_id": type("I", (), {"hyphenize": lambda self: "dynamodb"})()}
            )(),
        },
    )()
    namespace: dict[str, Any] = {"log": log, "model": model}
    code = compile(
        "def service_code(table):\n"
        "    log._record(params={'TableName': table, 'Key': {}}, model=model, context={})\n",
        "/srv/x/store.py",
        "exec",
    )
    exec(code, namespace)  # noqa: S102 - see above
    for _ in range(3):
        namespace["service_code"](f"{PREFIX}ledger-heads")
    log._record(params={"TableName": "by-a-test"}, model=model, context={})
    [recorded] = read_calls(tmp_path, FLEET.name)
    assert recorded == call("ledger", "dynamodb", "GetItem", TableName=f"{PREFIX}ledger-heads")


# --- calls → needs ---------------------------------------------------------------


def test_a_transaction_needs_each_items_own_action() -> None:
    found = needs(
        call(
            "ledger",
            "dynamodb",
            "TransactWriteItems",
            TransactItems=[["Put", f"{PREFIX}ledger-journal"], ["Update", f"{PREFIX}ledger-heads"]],
        )
    )
    assert Need("dynamodb:PutItem", "table/ledger-journal") in found
    assert Need("dynamodb:UpdateItem", "table/ledger-heads") in found
    assert not any(n.action == "dynamodb:TransactWriteItems" for n in found)


def test_indexes_are_granted_only_what_can_name_one() -> None:
    [indexes] = [s for s in task_policy(FLEET, "ledger") if s.sid == "OwnIndexes"]
    assert indexes.actions == ("dynamodb:Query", "dynamodb:Scan")
    assert indexes.resources == ("table/ledger-outbox/index/*", "table/ledger-journal/index/*")


def test_index_reads_batches_and_scratch_copies() -> None:
    [query, *_] = needs(
        call(
            "ledger",
            "dynamodb",
            "Query",
            TableName=f"{PREFIX}ledger-journal",
            IndexName="by-subject",
        )
    )
    assert query == Need("dynamodb:Query", "table/ledger-journal/index/by-subject")
    batch = needs(
        call(
            "ledger", "dynamodb", "BatchGetItem", RequestItems=[f"{PREFIX}ledger-journal-0a1b2c3d"]
        )
    )
    assert batch[0] == Need("dynamodb:BatchGetItem", "table/ledger-journal")
    sends = needs(call("user", "sqs", "SendMessageBatch", QueueUrl=f"http://h/1/{PREFIX}user"))
    assert sends[0] == Need("sqs:SendMessage", "queue/user")


def test_encryption_and_presigning_needs() -> None:
    post = needs(call("kyc", "s3", "CreateBucket", presigned=True, Bucket=f"{PREFIX}kyc-documents"))
    assert post == [
        Need("s3:PutObject", "bucket/kyc-documents/*"),
        Need("kms:GenerateDataKey", "key/data"),
    ]
    secret = needs(
        call("auth", "secrets-manager", "GetSecretValue", SecretId=f"{PREFIX}service/user")
    )
    assert Need("kms:Decrypt", "key/secrets") in secret
    grant = [
        n
        for n in needs(call("user", "dynamodb", "GetItem", TableName=f"{PREFIX}user-profiles"))
        if n.action == "kms:CreateGrant"
    ]
    assert grant == [Need("kms:CreateGrant", "key/data", (("kms:GrantIsForAWSResource", "true"),))]
    assert needs(
        call("client", "eventbridge", "PutEvents", EventBusNames=[f"{PREFIX}mindlinks"])
    ) == [Need("events:PutEvents", "bus/mindlinks")]


def test_no_declared_table_looks_like_a_scratch_copy() -> None:
    for service in FLEET.services:
        for table in FLEET.tables(service.name):
            assert not iam_calls.SCRATCH_COPY.search(f"{service.name}-{table.name}")


# --- needs → the policy ----------------------------------------------------------


def test_a_deny_wins_and_conditions_must_hold() -> None:
    statements = (
        Statement("Tables", ("dynamodb:*Item",), ("table/ledger-*",)),
        Statement("Never", ("dynamodb:UpdateItem",), ("table/ledger-journal",), "Deny"),
        Statement(
            "Grants",
            ("kms:CreateGrant",),
            ("key/data",),
            conditions=(Condition("Bool", "kms:GrantIsForAWSResource", ("true",)),),
        ),
    )
    assert decision(statements, Need("dynamodb:updateitem", "table/ledger-heads")) is statements[0]
    assert decision(statements, Need("dynamodb:UpdateItem", "table/ledger-journal")) is None
    assert decision(statements, Need("kms:CreateGrant", "key/data")) is None
    allowed = Need("kms:CreateGrant", "key/data", (("kms:GrantIsForAWSResource", "true"),))
    assert decision(statements, allowed) is statements[2]


def test_the_roles_allow_what_the_dead_letter_routes_do() -> None:
    """The replay and discard routes receive from and delete on the DLQ and
    send to the main queue; the first roles granted none of it."""
    dlq = f"http://127.0.0.1:5000/123456789012/{PREFIX}payment-dlq"
    recorded = [
        call("payment", "sqs", "ReceiveMessage", QueueUrl=dlq),
        call("payment", "sqs", "DeleteMessage", QueueUrl=dlq),
        call(
            "payment",
            "sqs",
            "SendMessage",
            QueueUrl=f"http://127.0.0.1:5000/123456789012/{PREFIX}payment",
        ),
        call("ledger", "dynamodb", "BatchGetItem", RequestItems=[f"{PREFIX}ledger-journal"]),
    ]
    assert check(FLEET, recorded).ok


def test_a_missing_grant_fails_the_check_and_says_where(monkeypatch: pytest.MonkeyPatch) -> None:
    def without_dead_letters(fleet: Any, service: str) -> tuple[Statement, ...]:
        return tuple(s for s in task_policy(fleet, service) if s.sid != "OwnDeadLetterQueue")

    monkeypatch.setattr("mindlinks_dev.iam.check.task_policy", without_dead_letters)
    dlq = f"http://127.0.0.1:5000/123456789012/{PREFIX}payment-dlq"
    findings = check(FLEET, [call("payment", "sqs", "ReceiveMessage", QueueUrl=dlq)])
    assert not findings.ok
    text = report(FLEET, findings, with_unused=False)
    assert "REFUSED: payment: sqs:ReceiveMessage on queue/payment-dlq" in text
    assert text.endswith("IAM check: FAIL")


def test_another_services_table_is_refused() -> None:
    findings = check(
        FLEET, [call("payment", "dynamodb", "GetItem", TableName=f"{PREFIX}contract-contracts")]
    )
    assert [(caller, need.ref) for caller, need in findings.refused] == [
        ("payment", "table/contract-contracts")
    ]


def test_unknown_callers_fail_and_unused_grants_are_reported() -> None:
    findings = check(FLEET, [call("nobody", "dynamodb", "GetItem", TableName="x")])
    assert findings.unknown_callers == {"nobody"}
    assert not findings.ok
    unused = unused_grants(FLEET, check(FLEET, []))
    assert ("OwnTables", "dynamodb:GetItem", "table/ledger-heads") in unused["ledger"]
    assert not any(sid == "Traces" for sid, _, _ in unused["ledger"])  # the sidecar's
    text = report(FLEET, check(FLEET, []), with_unused=True)
    assert "Grants no recorded call used: " in text
    assert not any(sid.startswith("NeverRewrite") for sid, _, _ in unused["ledger"])


def test_read_calls_keeps_the_fleets_own_and_resolves_keys(tmp_path: Path) -> None:
    def row(fleet: str, **targets: Any) -> str:
        found = dataclasses.asdict(call("contractor", "kms", "Decrypt", **targets))
        return json.dumps({"fleet": fleet, **found})

    key = "arn:aws:kms:eu-west-1:123456789012:key/1e6f3e40"
    learned = {"fleet": FLEET.name, "caller": "contractor", "prefix": PREFIX}
    (tmp_path / "contractor-1.jsonl").write_text(
        json.dumps({**learned, "alias": f"alias/{PREFIX}data", "key": key})
        + "\n\n"
        + row(FLEET.name, KeyId=key)
        + "\n"
    )
    (tmp_path / "contractor-2.jsonl").write_text(row("toy", KeyId=key) + "\n")
    [decrypt] = read_calls(tmp_path, FLEET.name)
    assert decrypt.targets == {"KeyId": f"alias/{PREFIX}data"}
    assert needs(decrypt) == [Need("kms:Decrypt", "key/data")]


def test_a_service_with_timers_may_touch_its_own_schedules_and_pass_only_the_timers_role() -> None:
    timed = dataclasses.replace(FLEET.service("payment"), timers=(Timer("some.deadline"),))
    fleet = dataclasses.replace(
        FLEET, services=tuple(timed if s.name == "payment" else s for s in FLEET.services)
    )
    own = call(
        "payment",
        "scheduler",
        "CreateSchedule",
        Name="payment-0123abcd",
        GroupName=f"{PREFIX}timers",
    )
    found = check(fleet, [own])
    assert found.ok, report(fleet, found, with_unused=False)
    assert Need(
        "iam:PassRole", "role/timers", (("iam:PassedToService", "scheduler.amazonaws.com"),)
    ) in needs(own)
    theirs = call(
        "payment",
        "scheduler",
        "DeleteSchedule",
        Name="ledger-0123abcd",
        GroupName=f"{PREFIX}timers",
    )
    assert not check(fleet, [theirs]).ok
    # Without declared timers, no scheduler grant at all.
    untimed = dataclasses.replace(FLEET.service("payment"), timers=())
    plain = dataclasses.replace(
        FLEET, services=tuple(untimed if s.name == "payment" else s for s in FLEET.services)
    )
    assert not check(plain, [own]).ok
    assert not any(s.sid == "OwnTimerSchedules" for s in task_policy(plain, "payment"))
