"""What docker/Dockerfile must guarantee, checked on its text (no engine here).

hadolint catches general mistakes; these are the promises of our image: every
image it starts from is pinned by digest (``name:tag@sha256:...``), the
service stage runs as a non-root user, has a HEALTHCHECK on /health/live with
Python's urllib, starts uvicorn as PID 1 (``exec`` in exec-form ``sh -c``) so
SIGTERM reaches it, drains for 20 s, never writes bytecode, and the runtime
stages contain the builder's venv and nothing built in them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    joined: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    if current:
        joined.append(current)
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str) -> dict[str, Stage]:
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for keyword, args in instructions(text):
        if keyword == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.IGNORECASE)
            assert match, args
            current = Stage(match.group(2) or str(len(found)), match.group(1))
            found[current.name] = current
        elif current is not None:
            current.instructions.append((keyword, args))
    return found


def chain(all_stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and the stages it is built on, base first."""
    result: list[Stage] = []
    stage: Stage | None = all_stages.get(name)
    while stage is not None:
        result.insert(0, stage)
        stage = all_stages.get(stage.base)
    return result


def _last(stages_: list[Stage], keyword: str) -> str | None:
    value = None
    for stage in stages_:
        for instruction, args in stage.instructions:
            if instruction == keyword:
                value = args
    return value


DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _resolved(image: str, text: str) -> str:
    """An image reference with a leading ``ARG`` default substituted."""
    for keyword, args in instructions(text):
        if keyword == "FROM":
            break
        name, _, default = args.partition("=")
        if keyword == "ARG" and image == f"${{{name}}}":
            return default
    return image


def unpinned_bases(text: str) -> list[str]:
    """The images stages start from (other stages aside) that are not pinned by
    digest: a tag moves, a digest names the same bytes forever."""
    all_stages = stages(text)
    return [
        f"{stage.name}: base image {image} is not pinned by digest (@sha256:...)"
        for stage in all_stages.values()
        if stage.base not in all_stages and not DIGEST.search(image := _resolved(stage.base, text))
    ]


def problems(text: str, target: str = "service") -> list[str]:
    found: list[str] = []
    all_stages = stages(text)
    if target not in all_stages:
        return [f"no {target} stage"]
    if list(all_stages)[-1] != target:
        found.append(f"{target} is not the last (default) stage")
    found += unpinned_bases(text)
    runtime = chain(all_stages, target)
    root_image = _resolved(runtime[0].base, text)
    if not re.match(r"python:[0-9.]+-slim", root_image):
        found.append(f"base image {root_image} is not a slim Python image")
    user = _last(runtime, "USER")
    if user is None or user.split(":")[0] in ("root", "0"):
        found.append(f"runs as root (USER {user})")
    healthcheck = _last(runtime, "HEALTHCHECK") or ""
    if "/health/live" not in healthcheck or "urllib" not in healthcheck:
        found.append("no HEALTHCHECK on /health/live with urllib")
    command = _last(runtime, "CMD")
    try:
        argv = json.loads(command or "")
    except json.JSONDecodeError:
        argv = None
    if not isinstance(argv, list):
        found.append("CMD is not in exec form")
    else:
        line = " ".join(argv)
        shell_exec = argv[:2] == ["sh", "-c"] and argv[2].startswith("exec uvicorn ")
        if not (argv[0] == "uvicorn" or shell_exec):
            found.append("uvicorn is not PID 1 (exec form, or `sh -c 'exec uvicorn ...'`)")
        for needle in (
            "--factory",
            "mindlinks_${SERVICE}.app:create",
            "--host 0.0.0.0",
            '--port "${PORT}"',
            "--timeout-graceful-shutdown 20",
        ):
            if needle not in line:
                found.append(f"CMD lacks {needle}")
    env = " ".join(args for stage in runtime for kw, args in stage.instructions if kw == "ENV")
    if "PYTHONDONTWRITEBYTECODE=1" not in env:
        found.append("PYTHONDONTWRITEBYTECODE is not set")
    for stage in runtime:
        for keyword, args in stage.instructions:
            if keyword == "RUN" and re.search(r"\b(apt-get|apk|pip|uv)\b", args):
                found.append(f"{stage.name}: builds in a runtime stage: RUN {args[:60]}")
            if keyword == "COPY" and "--from=" in args and "/opt/venv" not in args:
                found.append(f"{stage.name}: copies more than the venv: COPY {args}")
            if keyword in ("ADD", "COPY") and "--from=" not in args:
                found.append(f"{stage.name}: copies from the build context: {keyword} {args}")
    return found
