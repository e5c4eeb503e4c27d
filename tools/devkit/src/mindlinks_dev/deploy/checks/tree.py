"""The parsed Terraform tree and how the checks read it.

A tree maps each ``.tf``/``.tfvars`` file to its python-hcl2 document
(quotes of string literals dropped); the readers below pick blocks by kind,
type, name and directory. The small helpers at the end are shared by the
checks of several modules.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import hcl2

Tree = dict[Path, dict[str, Any]]


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals: drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):  # python-hcl2's __comments__, __is_block__ dropped
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> dict[str, Any]:
    """One file's document. python-hcl2 takes ~0.1 s a file, and the planted
    defect tests parse a copy of the whole tree with one file changed, many
    times over: a text seen before is parsed once per process."""
    document: dict[str, Any] = unquote(hcl2.loads(text))
    return document


def parse_tree(root: Path) -> Tree:
    """Every HCL file under ``root`` (raises ``ValueError`` naming a file that
    does not parse)."""
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".tf", ".tfvars") or ".terraform" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
            tree[path] = copy.deepcopy(_parsed(text))  # the caller's to change
        except Exception as exc:
            raise ValueError(f"{path}: does not parse: {exc}") from exc
    return tree


def blocks(
    tree: Tree, kind: str, directory: Path | None = None
) -> Iterator[tuple[Path, str, str, dict[str, Any]]]:
    """(file, type, name, body) of every ``resource``/``data`` block."""
    for path, document in tree.items():
        if directory is not None and path.parent != directory:
            continue
        for entry in document.get(kind, []):
            for type_, named in entry.items():
                for name, body in named.items():
                    yield path, type_, name, body


def named(tree: Tree, kind: str, directory: Path) -> dict[str, dict[str, Any]]:
    """``module``/``variable``/``output`` blocks of one directory by name."""
    found: dict[str, dict[str, Any]] = {}
    for path, document in tree.items():
        if path.parent != directory:
            continue
        for entry in document.get(kind, []):
            found.update(entry)
    return found


def locals_of(tree: Tree, directory: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path, document in tree.items():
        if path.parent == directory:
            for entry in document.get("locals", []):
                found.update(entry)
    return found


def resources_in(tree: Tree, directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(t, n): body for _, t, n, body in blocks(tree, "resource", directory)}


# --- shared by the checks -----------------------------------------------------


def expect(found: list[str], condition: bool, problem: str) -> None:
    """Record ``problem`` unless ``condition`` holds."""
    if not condition:
        found.append(problem)


def policy_statements(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """A policy document's statements, those of its ``dynamic`` blocks too."""
    yield from body.get("statement", [])
    for dynamic in body.get("dynamic", []):
        for spec in dynamic.values():
            yield from spec.get("content", [])


def as_list(value: Any) -> list[Any]:
    """HCL allows one value where a list is meant."""
    return value if isinstance(value, list) else [value]


def first_block(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The first nested block ``key`` (python-hcl2 gives a list), or empty."""
    value = body.get(key) or [{}]
    first = value[0] if isinstance(value, list) else value
    return first if isinstance(first, dict) else {}
