"""``mindlinks-ops escrow show`` and ``escrow resolve`` at the HTTP boundary
(respx, the shapes of docs/admin.md and the admin service's schemas): what
they ask the admin API, what they print, how they exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

if TYPE_CHECKING:
    from conftest import Cli

API = "http://admin.test"
AT = "2030-02-20T10:00:00.000000Z"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setenv("MINDLINKS_API_URL", API)
    monkeypatch.setenv("MINDLINKS_ADMIN_TOKEN", "token-of-an-admin")
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


def step(action: str, to_state: str, **fields: Any) -> dict[str, Any]:
    return {
        "at": AT,
        "action": action,
        "fromState": None,
        "toState": to_state,
        "byUserId": None,
        "bySide": None,
        "reason": None,
        "releasedMinor": None,
        "refundedMinor": None,
        "submissionNo": None,
        **fields,
    }


def item(state: str = "disputed", *history: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "esc-1",
        "contractId": "c-1",
        "itemId": "c-1-0",
        "title": "Design",
        "amountMinor": 150000,
        "currency": "EUR",
        "state": state,
        "parties": {
            "clientCompanyId": "co-1",
            "clientUserId": "u-client",
            "contractorId": "k-1",
            "contractorUserId": "u-contractor",
        },
        "history": list(history)
        or [
            step("funded", "funded", fromState="pending_funding", bySide="system"),
            step(
                "disputed",
                "disputed",
                fromState="funded",
                byUserId="u-client",
                bySide="client",
                reason="Not what we agreed",
            ),
        ],
    }


def problem(status: int, code: str, title: str, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": f"https://api.mindlinks.com/problems/{code}", "status": status,
              "code": code, "title": title, "detail": detail},
        headers={"content-type": "application/problem+json"},
    )  # fmt: skip


async def test_show_prints_the_state_history_and_ledger(cli: Cli, api: respx.MockRouter) -> None:
    journal = [{"seq": 41, "kind": "payment-disputed", "recordedAt": AT}]
    route = api.get("/v1/admin/escrow/esc-1").respond(
        json={"escrow": item(), "journal": journal, "partial": []}
    )
    result = await cli("escrow", "show", "esc-1")
    assert (result.code, result.err) == (0, "")
    assert route.called
    lines = result.out.splitlines()
    assert lines[:5] == [
        "escrow esc-1: disputed",
        "  contract c-1, item c-1-0 (Design)",
        "  amount 150000 EUR (minor units)",
        "  client u-client (company co-1), contractor u-contractor (k-1)",
        "",
    ]
    header, funded, disputed = lines[5:8]
    assert header.split() == ["AT", "ACTION", "STATE", "BY", "MONEY", "REASON"]
    assert funded.split() == [AT, "funded", "pending_funding", "→", "funded", "system", "-", "-"]
    assert disputed.split()[:7] == [AT, "disputed", "funded", "→", "disputed", "client", "u-client"]
    assert disputed.endswith("Not what we agreed")
    assert lines[8:] == [
        "",
        "ledger: 1 entry",
        "SEQ  KIND              RECORDED AT",
        f"41   payment-disputed  {AT}",
    ]


async def test_show_a_resolved_split(cli: Cli, api: respx.MockRouter) -> None:
    history = (
        step("disputed", "disputed", fromState="funded", bySide="client", byUserId="u-client"),
        step(
            "settling",
            "settling",
            fromState="disputed",
            bySide="admin",
            byUserId="u-admin",
            reason="Two of three pages",
            releasedMinor=100000,
            refundedMinor=50000,
        ),
        step("split", "split", fromState="settling", releasedMinor=100000, refundedMinor=50000),
    )
    api.get("/v1/admin/escrow/esc-1").respond(
        json={"escrow": item("split", *history), "journal": [], "partial": []}
    )
    result = await cli("escrow", "show", "esc-1")
    assert result.code == 0
    settling = result.out.splitlines()[7]
    assert "admin u-admin" in settling
    assert "released 100000 EUR, refunded 50000 EUR" in settling
    assert result.out.endswith("ledger: 0 entries\n")


async def test_show_without_the_ledger_exits_1(cli: Cli, api: respx.MockRouter) -> None:
    partial = [{"service": "ledger", "detail": "ledger did not answer (timeout)"}]
    body = {"escrow": item(), "journal": None, "partial": partial}
    api.get("/v1/admin/escrow/esc-1").respond(json=body)
    result = await cli("escrow", "show", "esc-1")
    assert result.code == 1
    assert "escrow esc-1: disputed" in result.out
    assert "ledger:" not in result.out
    assert result.err == "incomplete: ledger: ledger did not answer (timeout)\n"
    as_json = await cli("escrow", "show", "esc-1", "--json")
    assert (as_json.code, json.loads(as_json.out)) == (1, body)


async def test_show_an_unknown_item(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/escrow/esc-9").mock(
        return_value=problem(
            404, "escrow-not-found", "No such escrowed item", "No escrowed item esc-9"
        )
    )
    result = await cli("escrow", "show", "esc-9")
    assert (result.code, result.out) == (1, "")
    assert result.err == "No such escrowed item: No escrowed item esc-9\n"


async def test_ids_are_one_path_segment(cli: Cli, api: respx.MockRouter) -> None:
    route = api.get(url__regex=r"/v1/admin/escrow/.*").respond(
        json={"escrow": item(), "journal": [], "partial": []}
    )
    await cli("escrow", "show", "../fleet")
    assert route.calls.last.request.url.raw_path == b"/v1/admin/escrow/..%2Ffleet"


@pytest.mark.parametrize(
    ("flags", "sent"),
    [
        (["--split", "100000"], {"outcome": "split", "releasedMinor": 100000}),
        (["--release"], {"outcome": "release"}),
        (["--refund"], {"outcome": "refund"}),
    ],
)
async def test_resolve_sends_the_outcome_and_note(
    cli: Cli, api: respx.MockRouter, flags: list[str], sent: dict[str, Any]
) -> None:
    released = sent.get("releasedMinor", 150000 if sent["outcome"] == "release" else 0)
    final = {"split": "split", "release": "released", "refund": "refunded"}[sent["outcome"]]
    answer = item(
        final,
        step(final, final, fromState="settling", releasedMinor=released,
             refundedMinor=150000 - released),
    )  # fmt: skip
    route = api.post("/v1/admin/escrow/esc-1/resolution").respond(json=answer)
    result = await cli("escrow", "resolve", "esc-1", *flags, "--note", "  Two of three pages ")
    assert (result.code, result.err) == (0, "")
    assert json.loads(route.calls.last.request.content) == {**sent, "note": "Two of three pages"}
    assert result.out == (
        f"resolved escrow esc-1: {final}\n"
        f"  to the contractor: {released} EUR\n"
        f"  back to the client: {150000 - released} EUR\n"
    )
    as_json = await cli("escrow", "resolve", "esc-1", *flags, "--note", "again", "--json")
    assert json.loads(as_json.out) == answer


async def test_a_refused_resolution_exits_1(cli: Cli, api: respx.MockRouter) -> None:
    api.post("/v1/admin/escrow/esc-1/resolution").mock(
        return_value=problem(
            409,
            "escrow-state-conflict",
            "Conflict with the current state",
            "payment: the item is released",
        )
    )
    result = await cli("escrow", "resolve", "esc-1", "--refund", "--note", "too late?")
    assert (result.code, result.out) == (1, "")
    assert result.err == "Conflict with the current state: payment: the item is released\n"


def test_escrow_argument_errors(cli: Cli) -> None:
    assert "one of the arguments --release --refund --split is required" in cli.usage_error(
        "escrow", "resolve", "esc-1", "--note", "why not"
    )
    assert "not allowed with argument" in cli.usage_error(
        "escrow", "resolve", "esc-1", "--release", "--refund", "--note", "why not"
    )
    assert "give at least 1" in cli.usage_error(
        "escrow", "resolve", "esc-1", "--split", "0", "--note", "why not"
    )
    assert "not a whole number" in cli.usage_error(
        "escrow", "resolve", "esc-1", "--split", "12.50", "--note", "why not"
    )
    assert "--note" in cli.usage_error("escrow", "resolve", "esc-1", "--release")
    assert "at least 3 characters" in cli.usage_error(
        "escrow", "resolve", "esc-1", "--release", "--note", " ok "
    )
    assert "ID" in cli.usage_error("escrow", "show")
    assert "invalid choice" in cli.usage_error("escrow", "delete", "esc-1")
