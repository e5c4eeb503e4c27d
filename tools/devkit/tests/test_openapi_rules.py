"""The merged OpenAPI (``docs/openapi.json``) states every input rule the
services enforce, so a client generated from it sends only what is accepted:
ids, cursors, ``Idempotency-Key``, currencies, free text, either/or bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.openapi import DOCUMENT, repo_root
from mindlinks_kit.schemas import (
    CURSOR_PATTERN,
    FILLED_LONG_TEXT_PATTERN,
    FILLED_TEXT_PATTERN,
    ID_PATTERN,
    MULTI_LINE,
)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((repo_root(Path.cwd()) / DOCUMENT).read_text())
    return document


def parameters(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                yield f"{method.upper()} {path}", parameter


def _string(schema: dict[str, Any]) -> dict[str, Any]:
    """The string branch of an optional parameter (``anyOf: [string, null]``)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            return dict(branch)
    raise AssertionError(f"no string in {schema}")


def _is_id(name: str) -> bool:
    return name.endswith("_id") or (name.endswith("Id") and name != "messageId")


def test_every_id_parameter_has_the_fleet_id_pattern(spec: dict[str, Any]) -> None:
    ids = [(where, p) for where, p in parameters(spec) if _is_id(p["name"])]
    assert len(ids) > 30
    for where, parameter in ids:
        assert _string(parameter["schema"]).get("pattern") == ID_PATTERN, (where, parameter)


def test_every_cursor_has_the_cursor_pattern(spec: dict[str, Any]) -> None:
    cursors = [(where, p) for where, p in parameters(spec) if p["name"] == "cursor"]
    assert cursors
    for where, parameter in cursors:
        assert parameter["schema"]["pattern"] == CURSOR_PATTERN, where


def test_idempotency_keys_state_their_length(spec: dict[str, Any]) -> None:
    keys = [(w, p) for w, p in parameters(spec) if p["name"].lower() == "idempotency-key"]
    assert keys
    for where, parameter in keys:
        assert parameter["in"] == "header"
        schema = _string(parameter["schema"])
        assert (schema["minLength"], schema["maxLength"]) == (8, 128), where
    assert len({where for where, _ in keys}) == len(keys), "one Idempotency-Key per operation"


def test_a_route_that_needs_an_idempotency_key_says_so(spec: dict[str, Any]) -> None:
    release = spec["paths"]["/v1/payments/escrow/{escrow_id}/release"]["post"]
    (key,) = [p for p in release["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["required"] is True


def test_contract_currencies_are_an_enum(spec: dict[str, Any]) -> None:
    currency = spec["components"]["schemas"]["ContractIn"]["properties"]["currency"]
    assert {"EUR", "USD", "GBP"} <= set(currency["enum"])
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in currency["enum"])


def test_the_ledger_verify_body_is_one_of_three_shapes(spec: dict[str, Any]) -> None:
    shapes = spec["components"]["schemas"]["VerifyIn"]["oneOf"]
    assert [sorted(s["required"]) for s in shapes] == [
        ["digest", "entry", "proof"],
        ["contractId", "pdfBase64"],
        ["contractId", "pdfSha256"],
    ]


@pytest.mark.parametrize(
    ("component", "field", "pattern"),
    [
        ("RegisterRequest", "name", FILLED_TEXT_PATTERN),
        ("RegisterCompany", "legalName", FILLED_TEXT_PATTERN),
        ("AddressIn", "line1", FILLED_TEXT_PATTERN),
        ("InviteContractor", "name", FILLED_TEXT_PATTERN),
        ("ContractIn", "title", FILLED_TEXT_PATTERN),
        ("ContractIn", "description", FILLED_LONG_TEXT_PATTERN),
        ("TemplateIn", "body", FILLED_LONG_TEXT_PATTERN),
        ("VoidIn", "reason", FILLED_LONG_TEXT_PATTERN),
        ("SignIn", "signatureName", FILLED_TEXT_PATTERN),
        ("DeclineIn", "reason", FILLED_LONG_TEXT_PATTERN),
        ("ProfilePatch", "displayName", FILLED_TEXT_PATTERN),
        ("ContractorPatch", "name", FILLED_TEXT_PATTERN),
        # At least 3 characters once stripped: the pattern says so too.
        ("ReasonIn", "reason", MULTI_LINE.at_least(3)),
    ],
)
def test_free_text_refuses_control_characters_in_the_schema(
    spec: dict[str, Any], component: str, field: str, pattern: str
) -> None:
    schemas = spec["components"]["schemas"]
    name = next(n for n in schemas if n == component or n.endswith(component))
    assert _string(schemas[name]["properties"][field])["pattern"] == pattern


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def test_no_pydantic_constraint_leaks_into_the_schema(spec: dict[str, Any]) -> None:
    """``gt``/``le`` are pydantic's names, not JSON Schema's: a bound written
    so is no bound to a generated client (``make fuzz`` sent ``amountMinor:
    0``, which a misplaced validator had left as ``"gt": 0``)."""
    leaked = {"gt", "ge", "lt", "le"} & set(_keys(spec["components"]))
    assert not leaked


def test_every_answer_with_a_body_declares_its_schema(spec: dict[str, Any]) -> None:
    """A success the client cannot type is a cast at the call site: every 2xx
    states its content, but ``204`` and the ``202`` that answer nothing (the
    mail-me-again routes; the TypeScript client's ``done``)."""
    bare = [
        f"{method.upper()} {path} {status}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2") and status not in ("202", "204") and not response.get("content")
    ]
    assert bare == []
