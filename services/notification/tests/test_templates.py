"""Template rendering, the per-process cache and idempotent seeding."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_notification.seeds import SEEDS
from mindlinks_notification.store import NotificationStore
from mindlinks_notification.templates import (
    Renderer,
    TemplateBroken,
    TemplateCatalog,
    TemplateDataMissing,
    TemplateSpec,
    UnknownTemplate,
    seed,
)

SPEC = TemplateSpec(
    name="test.hello",
    subject="Hi {{ name }}\nBcc: evil@example.com",
    text="Hello {{ name }}, see {{ url }}",
    html='<p>Hello {{ name }}</p><a href="{{ url }}">go</a>',
    variables=("name",),
)


def test_html_is_escaped_and_text_is_not() -> None:
    rendered = (
        Renderer()
        .compile(SPEC)
        .render({"name": "<script>x()</script>", "url": 'https://a.example/?x=1&y="2"'})
    )
    assert rendered.html == (
        "<p>Hello &lt;script&gt;x()&lt;/script&gt;</p>"
        '<a href="https://a.example/?x=1&amp;y=&#34;2&#34;">go</a>'
    )
    assert rendered.text == 'Hello <script>x()</script>, see https://a.example/?x=1&y="2"'
    # A subject is one line: no header injection through a newline.
    assert rendered.subject == "Hi <script>x()</script> Bcc: evil@example.com"


def test_a_missing_variable_is_an_error() -> None:
    compiled = Renderer().compile(SPEC)
    with pytest.raises(TemplateDataMissing) as declared:
        compiled.render({"url": "https://a.example"})
    assert declared.value.extensions["missing"] == ["name"]
    with pytest.raises(TemplateDataMissing, match="'url' is undefined"):
        compiled.render({"name": "Ada"})  # not declared, still never rendered empty


def test_the_sandbox_refuses_unsafe_templates() -> None:
    spec = replace(SPEC, text="{{ items.append(1) }}{{ name.__class__.__mro__ }}", variables=())
    with pytest.raises(TemplateBroken):
        Renderer().compile(spec).render({"items": [], "name": "x"})
    probing = replace(SPEC, text="{{ name.__class__.__mro__ }}", variables=())
    with pytest.raises((TemplateBroken, TemplateDataMissing)):
        Renderer().compile(probing).render({"name": "x"})


@pytest.mark.parametrize("spec", SEEDS, ids=lambda s: s.name)
def test_every_seed_renders_with_its_variables(spec: TemplateSpec) -> None:
    data = {name: f"value-of-{name}" for name in spec.variables}
    rendered = Renderer().compile(spec).render(data)
    for name in spec.variables:
        assert f"value-of-{name}" in rendered.text
        assert f"value-of-{name}" in rendered.html
    assert rendered.subject
    assert rendered.html.startswith("<!doctype html>")


class FakeSource:
    def __init__(self, spec: TemplateSpec | None) -> None:
        self.spec = spec
        self.reads = 0

    async def template(self, name: str) -> TemplateSpec | None:
        self.reads += 1
        return self.spec if self.spec and self.spec.name == name else None

    async def seed_template(self, spec: TemplateSpec) -> bool:
        return True


async def test_the_catalog_caches_compiled_templates() -> None:
    now = [0.0]
    source = FakeSource(SPEC)
    compiles: list[str] = []

    class CountingRenderer(Renderer):
        def compile(self, spec: TemplateSpec) -> Any:
            compiles.append(spec.name)
            return super().compile(spec)

    catalog = TemplateCatalog(source, CountingRenderer(), ttl=60, clock=lambda: now[0])
    first = await catalog.get("test.hello")
    assert await catalog.get("test.hello") is first
    assert (source.reads, compiles) == (1, ["test.hello"])
    now[0] = 61  # re-read after the ttl; recompiled only when the template changed
    assert await catalog.get("test.hello") is first
    source.spec = replace(SPEC, text="Bye {{ name }}", revision=2)
    now[0] = 122
    rendered = (await catalog.get("test.hello")).render({"name": "Ada", "url": "u"})
    assert rendered.text == "Bye Ada"
    assert compiles == ["test.hello", "test.hello"]
    with pytest.raises(UnknownTemplate):
        await catalog.get("test.other")


async def test_seeding_is_idempotent_and_keeps_edited_templates(fleet: Running) -> None:
    runtime = fleet.runtime("notification")
    store = NotificationStore(runtime.table("notifications"), runtime.table("templates"))
    spec = replace(SPEC, name=f"test.seed-{uuid.uuid4().hex[:8]}")
    renderer = Renderer()
    assert await seed(store, [spec], renderer) == [spec.name]
    assert await seed(store, [spec], renderer) == []
    newer = replace(spec, text="v2 {{ name }}", revision=2)
    assert await seed(store, [newer], renderer) == [spec.name]
    assert await store.template(spec.name) == newer

    # An edited template (source other than "seed") is never overwritten.
    await runtime.table("templates").update(
        {"name": spec.name},
        "SET #s = :custom, #t = :text",
        names={"#s": "source", "#t": "text"},
        values={":custom": {"S": "admin"}, ":text": {"S": "Edited {{ name }}"}},
    )
    assert await seed(store, [replace(newer, revision=3)], renderer) == []
    stored = await store.template(spec.name)
    assert stored is not None
    assert stored.text == "Edited {{ name }}"


async def test_startup_seeded_the_defaults(fleet: Running) -> None:
    runtime = fleet.runtime("notification")
    store = NotificationStore(runtime.table("notifications"), runtime.table("templates"))
    for spec in SEEDS:
        assert await store.template(spec.name) == spec
