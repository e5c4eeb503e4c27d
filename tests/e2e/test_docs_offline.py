"""``/docs`` works offline: the edge serves Swagger UI's own files, so a real
browser that can reach nothing but the edge still lists every operation.

Headless Chromium (Debian's ``chromium``) opens the e2e fleet's edge (the
same edge as ``make run``'s http://localhost:8080, on a port of its own) with
every other host unresolvable, reads the rendered page and saves a
screenshot under ``.run/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from mindlinks_dev.openapi import repo_root

INSTALL = (
    "headless Chromium is needed: `sudo apt-get install chromium` (Debian/Ubuntu; "
    "`.ci/run` installs it), or put a Chromium or Chrome on the PATH"
)
SCREENSHOT = repo_root(Path.cwd()) / ".run/docs-offline.png"


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _browse(browser: str, profile: Path, *action: str, url: str) -> str:
    flags = [
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Offline but for the edge: no CDN, no font host, nothing else resolves.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        # Let Swagger UI fetch /openapi.json and render before the page is read.
        "--virtual-time-budget=30000",
    ]
    done = subprocess.run(
        [browser, *flags, *action, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_api_docs_render_offline_in_a_real_browser(edge: httpx.Client, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        if os.environ.get("MINDLINKS_BROWSER_REQUIRED"):
            pytest.fail(INSTALL)
        pytest.skip(INSTALL)
    url = f"http://localhost:{edge.base_url.port}/docs"
    # The edge merges the services' documents once all answer; until then it
    # serves what it has (a loaded machine's services may answer late).
    deadline = time.monotonic() + 60
    while "Not answering yet" in edge.get("/openapi.json").json()["info"].get("description", ""):
        assert time.monotonic() < deadline, "the edge never had every service's document"
        time.sleep(1)
    # Swagger UI 5 renders only the operations the window shows: a tall one shows all.
    dom = _browse(browser, tmp_path / "profile", "--window-size=1280,20000", "--dump-dom", url=url)
    assert "swagger-ui" in dom
    # Swagger UI rendered the merged spec's operations: it ran from the edge's files.
    assert dom.count('class="opblock ') > 50, dom[:2000]
    for path in ("/v1/auth/login", "/v1/contracts", "/v1/payments/escrow/{escrow_id}/release"):
        assert f'data-path="{path}"' in dom or f">{path}<" in dom.replace("\u200b", ""), path

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    _browse(
        browser,
        tmp_path / "profile",
        f"--screenshot={SCREENSHOT}",
        "--window-size=1280,1800",
        url=url,
    )
    assert SCREENSHOT.stat().st_size > 20_000
