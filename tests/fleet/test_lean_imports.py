"""A service process imports only what it serves (issue 13): Redis only in the
services declared with it, PDF rendering and Stripe's SDK on first use. How
long an import takes is ``make bench``'s to say."""

from __future__ import annotations

import json
import subprocess
import sys

from mindlinks_dev.runner import installed
from mindlinks_fleet import FLEET

ON_FIRST_USE = {"reportlab", "pypdf", "stripe", "pybreaker"}
"""Loaded by the code that needs them, never by the import of a service."""

_NEWLY_LOADED = (
    "import importlib, json, sys\n"
    "def loaded(): return {name.split('.')[0] for name in sys.modules}\n"
    "added = {}\n"
    "for module in sys.argv[1:]:\n"
    "    before = loaded()\n"
    "    importlib.import_module(module)\n"
    "    added[module] = sorted(loaded() - before)\n"
    "print(json.dumps(added))\n"
)


def test_a_service_imports_only_what_it_serves() -> None:
    """One fresh interpreter imports every service's app module in turn, those
    without Redis first: what each one's import added is what it brings."""
    services = sorted(installed(), key=lambda name: (FLEET.service(name).redis, name))
    modules = {installed()[name].split(":", 1)[0]: name for name in services}
    result = subprocess.run(
        [sys.executable, "-c", _NEWLY_LOADED, *modules],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    added: dict[str, list[str]] = json.loads(result.stdout)
    for module, packages in added.items():
        service = FLEET.service(modules[module])
        unwanted = ON_FIRST_USE | (set() if service.redis else {"redis"})
        assert unwanted.isdisjoint(packages), (service.name, unwanted & set(packages))
    with_redis = [m for m, name in modules.items() if FLEET.service(name).redis]
    assert with_redis
    assert "redis" in added[with_redis[0]]
