"""One public OpenAPI document for the fleet, merged from every service's own.

Only what the edge routes is kept: ``/v1/<area>/...`` of the service that owns
the area and its extra public paths — never ``/internal``, ``/health`` or the
local-only ``/v1/<area>/dev/...`` routes — and only the components those paths
reach. Components with one name and different content in two services are
prefixed with the service name (``Profile`` → ``AuthProfile``, ``UserProfile``)
and every ``$ref`` follows.

    python -m mindlinks_dev.openapi --write   # docs/openapi.json
    python -m mindlinks_dev.openapi --check   # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlinks_kit.declaration import Fleet, Service

TITLE = "Mind-Links API"
VERSION = "v1"
SERVERS: tuple[dict[str, str], ...] = ({"url": "https://api.mindlinks.com"},)
DOCUMENT = Path("docs/openapi.json")
LOCAL_DOCUMENT = Path("docs/openapi.local.json")
"""Only the local-only stand-ins for the outside world (``/v1/<area>/dev/...``:
the mailbox, a KYC decision, a card payment), for the tools and examples that
drive a local fleet (the TypeScript client's ``local`` types); never deployed."""
_COMPONENTS = "#/components/"
_LOCAL_ONLY = re.compile(r"^/v1/[^/]+/dev(/|$)")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

Renames = dict[tuple[str, str], str]
"""(component section, name) → the name in the merged document."""


def public_paths(
    document: Mapping[str, Any], service: Service, *, include_dev: bool = False
) -> dict[str, Any]:
    """The paths of one service's document that the edge routes to it."""
    area = f"/v1/{service.area}"
    dev = f"{area}/dev"
    kept: dict[str, Any] = {}
    for path, item in document.get("paths", {}).items():
        routed = path == area or path.startswith(area + "/") or path in service.extra_public_paths
        local_only = path == dev or path.startswith(dev + "/")
        if routed and (include_dev or not local_only):
            kept[path] = item
    return kept


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENTS):
                section, _, name = value[len(_COMPONENTS) :].partition("/")
                yield section, name
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _operations(paths: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for item in paths.values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                yield operation


def _reachable(paths: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """The components ``paths`` use, directly or through other components."""
    pending = list(_refs(paths))
    pending += [
        ("securitySchemes", name)
        for operation in _operations(paths)
        for requirement in operation.get("security", [])
        for name in requirement
    ]
    kept: dict[str, dict[str, Any]] = {}
    while pending:
        section, name = pending.pop()
        if name in kept.get(section, {}) or name not in components.get(section, {}):
            continue
        kept.setdefault(section, {})[name] = components[section][name]
        pending.extend(_refs(components[section][name]))
    return kept


def _rewrite(node: Any, renames: Renames) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENTS):
                section, _, name = value[len(_COMPONENTS) :].partition("/")
                value = f"{_COMPONENTS}{section}/{renames.get((section, name), name)}"
            out[key] = _rewrite(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite(value, renames) for value in node]
    return node


def _canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def prefixed(service: str, name: str) -> str:
    return "".join(word.capitalize() for word in re.split(r"[-_]", service)) + name


@dataclass
class _Part:
    service: str
    paths: dict[str, Any]
    components: dict[str, dict[str, Any]]


def _clash_renames(parts: Sequence[_Part]) -> dict[str, Renames]:
    """Prefix every variant of a component whose content differs between
    services, until no two services mean different things by one name
    (renaming a component changes the content of those that refer to it)."""
    renames: dict[str, Renames] = {part.service: {} for part in parts}
    keys = sorted(
        {
            (section, name)
            for part in parts
            for section, entries in part.components.items()
            for name in entries
        }
    )
    changed = True
    while changed:
        changed = False
        for section, name in keys:
            owners = [p for p in parts if name in p.components.get(section, {})]
            if len(owners) < 2 or (section, name) in renames[owners[0].service]:
                continue
            variants = {
                _canonical(_rewrite(p.components[section][name], renames[p.service]))
                for p in owners
            }
            if len(variants) > 1:
                for part in owners:
                    renames[part.service][(section, name)] = prefixed(part.service, name)
                changed = True
    return renames


def merge_openapi(
    documents: Iterable[tuple[Service, Mapping[str, Any]]],
    *,
    include_dev: bool = False,
    title: str = TITLE,
    version: str = VERSION,
    servers: Sequence[Mapping[str, str]] = SERVERS,
    description: str = "",
) -> dict[str, Any]:
    """Merge the services' own documents (``app.openapi()``) into the public one."""
    parts: list[_Part] = []
    tags: dict[str, Any] = {}
    openapi_version = "3.1.0"
    for service, document in sorted(documents, key=lambda d: d[0].name):
        paths = public_paths(document, service, include_dev=include_dev)
        parts.append(_Part(service.name, paths, _reachable(paths, document.get("components", {}))))
        openapi_version = document.get("openapi", openapi_version)
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    renames = _clash_renames(parts)

    merged_paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    for part in parts:
        names = renames[part.service]
        for path, item in part.paths.items():
            if path in merged_paths:
                raise ValueError(f"{path} is served by two services")
            merged_paths[path] = _rewrite(item, names)
            for operation in _operations({path: merged_paths[path]}):
                operation.setdefault("tags", [part.service])
                if "security" in operation:
                    operation["security"] = [
                        {
                            names.get(("securitySchemes", n), n): scopes
                            for n, scopes in requirement.items()
                        }
                        for requirement in operation["security"]
                    ]
        for section, entries in part.components.items():
            target = components.setdefault(section, {})
            for name, value in entries.items():
                final = names.get((section, name), name)
                content = _rewrite(value, names)
                if final in target and _canonical(target[final]) != _canonical(content):
                    raise ValueError(f"{section}/{final} of {part.service} clashes after prefixing")
                target[final] = content

    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    merged: dict[str, Any] = {
        "openapi": openapi_version,
        "info": info,
        "servers": [dict(server) for server in servers],
        "paths": dict(sorted(merged_paths.items())),
    }
    if components:
        merged["components"] = {
            section: dict(sorted(entries.items()))
            for section, entries in sorted(components.items())
        }
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _service_documents(fleet: Fleet) -> tuple[list[tuple[Service, dict[str, Any]]], list[str]]:
    """Every installed service's own document (apps are built, not started:
    no I/O), and the fleet's services that are not installed."""
    from mindlinks_dev.harness import installed_services

    # Settings refuse local defaults outside local environments, and local is
    # what mounts the /dev/ routes public_paths drops.
    os.environ["MINDLINKS_ENVIRONMENT"] = "local"
    os.environ.setdefault("MINDLINKS_LOG_LEVEL", "WARNING")
    factories = installed_services()
    known = {s.name for s in fleet.services}
    documents = [
        (fleet.service(name), factory().openapi())
        for name, factory in sorted(factories.items())
        if name in known
    ]
    return documents, sorted(known - set(factories))


def local_only(merged: Mapping[str, Any]) -> dict[str, Any]:
    """``merged`` (with its ``/dev/`` routes) cut to those routes and what they reach."""
    paths = {path: item for path, item in merged["paths"].items() if _LOCAL_ONLY.match(path)}
    document = {**merged, "paths": paths}
    components = _reachable(paths, merged.get("components", {}))
    document.pop("components", None)
    if components:
        document["components"] = components
    document["info"] = {
        **merged["info"],
        "title": f"{merged['info']['title']}: local stand-ins",
        "description": "Local mode only: the stand-ins for the outside world. Never deployed.",
    }
    return document


def build(fleet: Fleet) -> tuple[dict[str, Any], list[str]]:
    """The merged public document of every installed service, and the fleet's
    services that are not installed."""
    documents, missing = _service_documents(fleet)
    return merge_openapi(documents), missing


def build_both(fleet: Fleet) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The public document and the local stand-ins' one, from one build of the apps."""
    documents, missing = _service_documents(fleet)
    return (
        merge_openapi(documents),
        local_only(merge_openapi(documents, include_dev=True)),
        missing,
    )


def repo_root(start: Path) -> Path:
    """The workspace root (its pyproject declares the uv workspace) above
    ``start``, else above this (editable) package, else ``start``."""
    for origin in (start.resolve(), Path(__file__).resolve().parent):
        for folder in (origin, *origin.parents):
            pyproject = folder / "pyproject.toml"
            if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text():
                return folder
    return start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mindlinks_dev.openapi",
        description="The fleet's merged public OpenAPI document.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the document")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 when the committed document differs"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"default: {DOCUMENT} at the workspace root ({LOCAL_DOCUMENT.name} beside it)",
    )
    args = parser.parse_args(argv)
    from mindlinks_fleet import FLEET

    root = repo_root(Path.cwd())
    public, local, missing = build_both(FLEET)
    if missing:
        print(f"not installed (left out): {', '.join(missing)}", file=sys.stderr)
    output: Path = args.output or root / DOCUMENT
    outputs = {output: public, output.parent / LOCAL_DOCUMENT.name: local}
    if not (args.write or args.check):
        sys.stdout.write(render(public))
        return 0
    stale = []
    for output, document in outputs.items():
        text = render(document)
        if args.write:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            print(f"wrote {output} ({len(document['paths'])} paths)", file=sys.stderr)
        elif (output.read_text(encoding="utf-8") if output.exists() else "") != text:
            stale.append(output)
    for output in stale:
        print(f"{output} is out of date: run `make openapi`", file=sys.stderr)
    if args.check and not stale:
        print("the OpenAPI documents are up to date", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
