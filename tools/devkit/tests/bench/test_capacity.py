"""Capacity on paper: prices per call, tasks per service, cost per volume,
what saturates first and which keys go hot."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mindlinks_dev.bench import capacity, hotspots
from mindlinks_dev.bench.capacity import PEAK, SECONDS_PER_MONTH, Demand, month
from mindlinks_dev.bench.prices import PRICES, billed, by_price, gsi_counts, task_month_usd
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Service, Sizing


def test_calls_are_billed_in_the_units_aws_bills() -> None:
    gsis = {"contract-contracts": 3}
    [read] = billed("dynamodb:GetItem contract-contracts", 10, gsis)
    assert (read.price, read.units) == ("dynamodb read", 10)
    [write] = billed("dynamodb:TransactWriteItems contract-contracts", 2, gsis)
    assert (write.price, write.units) == ("dynamodb write", 2 * (4 + 3))
    [put] = billed("dynamodb:PutItem user-profiles", 1, gsis)
    assert put.units == 1
    handled, delivered = billed("sqs:DeleteMessage contract", 5, gsis)
    assert handled.units == delivered.units == 5
    assert "EventBridge" in delivered.kind
    [events] = billed("events:PutEvents a.one+b.two", 3, gsis)
    assert (events.price, events.units) == ("eventbridge", 6)
    assert billed("s3:PUT bucket", 1, gsis)[0].price == "s3 write"
    assert billed("s3:GET bucket", 1, gsis)[0].price == "s3 read"
    [free] = billed("dynamodb:DescribeTable contract-contracts", 4, gsis)
    assert (free.price, free.usd) == ("", 0.0)
    assert read.usd == pytest.approx(10 * 0.14 / 1e6)


def test_totals_by_price_leave_out_what_is_free() -> None:
    lines = [
        *billed("dynamodb:GetItem t", 3, {}),
        *billed("dynamodb:Query t", 2, {}),
        *billed("dynamodb:DescribeTable t", 9, {}),
    ]
    reads = 5 * PRICES["dynamodb read"].each
    assert by_price(lines) == {"dynamodb read": (5, pytest.approx(reads))}


def test_gsis_are_counted_from_the_declaration() -> None:
    gsis = gsi_counts(FLEET)
    assert gsis["contract-contracts"] == 3
    assert gsis["contract-outbox"] == 1  # the kit's derived outbox and its pending index
    assert gsis["user-profiles"] == 0


def test_a_fargate_task_month() -> None:
    assert task_month_usd(256, 512, 730) == pytest.approx((0.25 * 0.04048 + 0.5 * 0.004445) * 730)


def demand(cpu: float, idle: float = 0.0, size: Sizing | None = None) -> Demand:
    return Demand(Service("s", port=1, area="s", sizing=size or Sizing()), cpu, idle)


def test_tasks_keep_each_under_the_scale_out_target_and_never_under_the_minimum() -> None:
    d = demand(cpu=0.5, idle=0.01)  # 0.25 vCPU tasks: 0.175 cores each at 70 %
    assert d.tasks(0.0) == 1
    assert d.tasks(1.0) == math.ceil(0.51 / 0.175)
    assert demand(0.5, size=Sizing(min_tasks=2)).tasks(0.0) == 2


def test_the_ceiling_is_where_the_peak_needs_more_than_the_maximum() -> None:
    d = demand(cpu=0.5)
    ceiling = d.ceiling()
    at_ceiling = ceiling / SECONDS_PER_MONTH * PEAK
    assert d.tasks(at_ceiling * 0.99) <= 5 < d.tasks(at_ceiling * 1.01)
    assert demand(cpu=0.0).ceiling() == math.inf


def test_a_month_pays_the_average_tasks_and_sizes_for_the_peak() -> None:
    needs = [demand(cpu=0.5)]
    quiet = month(1000, needs, 0.001)
    assert quiet.average_tasks == {"s": 1}
    assert quiet.over == []
    assert quiet.fargate_usd == pytest.approx(task_month_usd(256, 512, 730))
    assert quiet.requests_usd == pytest.approx(1.0)
    assert quiet.per_thousand_usd == pytest.approx(quiet.total_usd)
    busy = month(10_000_000, needs, 0.001)
    assert busy.peak_tasks["s"] > busy.average_tasks["s"]
    assert busy.over == ["s"]


def test_status_keys_and_the_outbox_and_audit_days_are_found_hot() -> None:
    found = {(table, index) for table, index, _ in hotspots.few_valued(FLEET)}
    assert {
        ("contract-contracts", "by-status"),
        ("admin-audit", "by-day"),
        ("contract-outbox", "pending"),
        ("auth-users", "by-role"),
    } <= found
    assert ("contract-contracts", "by-company") not in found


def test_writes_and_scans_are_read_from_the_counted_calls() -> None:
    calls = {
        "dynamodb:PutItem a": 2,
        "dynamodb:TransactWriteItems a": 1,
        "dynamodb:BatchWriteItem a+b": 1,
        "dynamodb:GetItem a": 7,
        "dynamodb:Scan j": 4,
    }
    assert hotspots.writes_by_table(calls) == {"a": 4, "b": 1}
    assert hotspots.scans(calls) == {"j": 4}


def test_outbox_writes_come_from_the_events_put_two_each() -> None:
    calls = {"events:PutEvents signature.completed+contract.sent-for-signature": 2}
    assert hotspots.outbox_writes(calls, FLEET) == {"signature-outbox": 4, "contract-outbox": 4}
    assert hotspots.outbox_writes({"events:PutEvents not.an-event": 1}, FLEET) == {}


def test_the_ledger_chain_saturates_where_its_appends_reach_the_limit() -> None:
    [(table, ceiling)] = hotspots.serial_ceilings(
        {"dynamodb:TransactWriteItems ledger-journal": 5}, PEAK, SECONDS_PER_MONTH
    ).items()
    assert table == "ledger-journal"
    assert ceiling / SECONDS_PER_MONTH * PEAK * 5 == pytest.approx(50.0)
    assert hotspots.serial_ceilings({}, PEAK, SECONDS_PER_MONTH) == {}


def test_the_capacity_document_answers_every_question(figures: dict[str, Any]) -> None:
    text = capacity.document(figures, FLEET)
    for heading in (
        "## The model",
        "## CPU per request and per lifecycle",
        "## AWS requests per lifecycle",
        "## Tasks and cost by volume",
        "## What saturates first",
        "## Hot keys and indexes",
        "### Scans",
        "### Serial points",
    ):
        assert heading in text
    assert "**contract saturates first**" in text
    assert "| **per 1,000 lifecycles** |" in text
    assert "`ledger-journal`: 4 scan calls per lifecycle" in text
    assert "None of these partitions comes near its write limit" in text
    assert "eu-west-1 public list prices as of" in text
