"""Notification templates: what they are, how they render, and the per-process
cache of compiled templates.

Rendering runs in Jinja's sandbox with ``StrictUndefined`` (a missing variable
is an error, never an empty hole in a mail); the HTML body is autoescaped, the
subject and text bodies are not (they are not HTML).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mindlinks_kit.errors import InvalidInput, Problem

log = structlog.get_logger("mindlinks.templates")


class UnknownTemplate(InvalidInput):
    code = "unknown-template"
    title = "There is no template with this name"


class TemplateDataMissing(InvalidInput):
    code = "template-data-missing"
    title = "The template needs data the request did not give"


class TemplateBroken(Problem):
    status = 500
    code = "template-broken"
    title = "The stored template cannot be rendered"


@dataclass(frozen=True)
class TemplateSpec:
    """A template as stored: ``variables`` are the data keys it requires;
    ``channels`` the ones it may be sent on (in-app uses subject and text)."""

    name: str
    subject: str
    text: str
    html: str
    channels: tuple[str, ...] = ("email",)
    variables: tuple[str, ...] = ()
    description: str = ""
    revision: int = 1
    """Bump when changing a seed: startup re-seeds templates older than the code."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class CompiledTemplate:
    def __init__(
        self, spec: TemplateSpec, subject: Template, text: Template, html: Template
    ) -> None:
        self.spec = spec
        self._subject = subject
        self._text = text
        self._html = html

    def render(self, data: Mapping[str, Any]) -> Rendered:
        missing = [name for name in self.spec.variables if name not in data]
        if missing:
            raise TemplateDataMissing(
                f"{self.spec.name} needs {', '.join(missing)}", missing=missing
            )
        context = dict(data)
        try:
            return Rendered(
                subject=" ".join(self._subject.render(context).split()),
                text=self._text.render(context),
                html=self._html.render(context),
            )
        except UndefinedError as exc:
            raise TemplateDataMissing(f"{self.spec.name}: {exc.message}") from None
        except SecurityError as exc:
            log.error("template.unsafe", template=self.spec.name, error=str(exc))
            raise TemplateBroken(f"{self.spec.name} does something the sandbox forbids") from None
        except TemplateError as exc:
            log.error("template.failed", template=self.spec.name, error=str(exc))
            raise TemplateBroken(f"{self.spec.name} cannot be rendered") from None


class Renderer:
    """Two sandboxed environments: one autoescaping (HTML), one plain (subject, text)."""

    def __init__(self) -> None:
        self._html = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
        self._plain = ImmutableSandboxedEnvironment(
            autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True
        )

    def compile(self, spec: TemplateSpec) -> CompiledTemplate:
        """Raises ``jinja2.TemplateSyntaxError`` for a template that does not parse."""
        return CompiledTemplate(
            spec,
            self._plain.from_string(spec.subject),
            self._plain.from_string(spec.text),
            self._html.from_string(spec.html),
        )


class TemplateSource(Protocol):
    async def template(self, name: str) -> TemplateSpec | None: ...
    async def seed_template(self, spec: TemplateSpec) -> bool: ...


class TemplateCatalog:
    """Templates by name, compiled once per revision and re-read from the table
    at most every ``ttl`` seconds (edits reach every process within ``ttl``)."""

    def __init__(
        self,
        source: TemplateSource,
        renderer: Renderer,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.renderer = renderer
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, CompiledTemplate]] = {}

    async def get(self, name: str) -> CompiledTemplate:
        cached = self._cache.get(name)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        spec = await self.source.template(name)
        if spec is None:
            raise UnknownTemplate(f"No template named {name!r}")
        if cached and cached[1].spec == spec:
            compiled = cached[1]
        else:
            try:
                compiled = self.renderer.compile(spec)
            except TemplateError as exc:
                log.error("template.invalid", template=name, error=str(exc))
                raise TemplateBroken(f"{name} does not compile") from None
        self._cache[name] = (self.clock(), compiled)
        return compiled


async def seed(
    source: TemplateSource, specs: Sequence[TemplateSpec], renderer: Renderer
) -> list[str]:
    """Write the code's default templates where missing or older; returns the
    names written. Every seed must compile: a broken seed stops the service."""
    written = []
    for spec in specs:
        renderer.compile(spec)
        if await source.seed_template(spec):
            written.append(spec.name)
    if written:
        log.info("templates.seeded", templates=written)
    return written
