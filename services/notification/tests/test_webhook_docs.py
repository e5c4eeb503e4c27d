"""``docs/webhooks.md`` holds: its Python receiver (and its JavaScript one,
where ``node`` is installed), taken from the markdown as it is, runs on
127.0.0.1, accepts the service's own deliveries and refuses a tampered, a
stale and a wrongly signed one."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.parties import Parties
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.events import SignatureCompleted
from mindlinks_notification.webhooks.domain import signature_header

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
BASE = "/v1/notifications/webhooks"


def snippet(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"docs/webhooks.md should hold one {language} receiver"
    return str(blocks[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running(command: list[str], secret: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {"MINDLINKS_WEBHOOK_SECRET": secret, "PORT": str(port), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the receiver did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "user", "client", "notification") as started:
        yield started


async def check_receiver(fleet: Running, command: list[str]) -> None:
    owner = await Parties(fleet, Directory()).client()
    port = free_port()
    made = await fleet.client("notification").post(
        BASE,
        headers=owner.headers,
        json={"url": f"http://127.0.0.1:{port}/", "eventTypes": ["contract.signed"]},
    )
    assert made.status_code == 201, made.text
    endpoint, secret = made.json()["id"], made.json()["secret"]
    with running(command, secret, port):
        event = SignatureCompleted(
            contract_id=uuid.uuid4().hex,
            title="Docs check",
            client_company_id=owner.company_id,
            client_user_id=uuid.uuid4().hex,
            contractor_id=uuid.uuid4().hex,
            contractor_user_id=uuid.uuid4().hex,
            signature_ids=["s"],
            pdf_sha256="a" * 64,
            final_pdf_sha256="b" * 64,
            ledger_entry_ids=[1],
        )
        await fleet.emit("signature.completed", event)
        log = await fleet.client("notification").get(
            f"{BASE}/{endpoint}/deliveries", headers=owner.headers
        )
        (delivery,) = log.json()["items"]
        (attempt,) = delivery["attempts"]
        assert attempt["statusCode"] == 204, "the documented receiver accepts our delivery"

        body = (await fleet.runtime("notification").table("webhook-deliveries").get(
            {"id": delivery["id"]}
        ))["body"].encode()  # fmt: skip
        url = f"http://127.0.0.1:{port}/"

        async def send(content: bytes, header: str) -> int:
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    url, content=content, headers={"Mindlinks-Signature": header}
                )
                return answer.status_code

        now = int(time.time())
        assert await send(body, signature_header([secret], now, body)) == 204
        tampered = body.replace(b"Docs check", b"Docs chesk")
        assert await send(tampered, signature_header([secret], now, body)) == 400
        assert await send(body, signature_header([secret], now - 301, body)) == 400
        assert await send(body, signature_header(["whsec_someone-else"], now, body)) == 400
        assert await send(body, f"t={now}") == 400
        # During a rotation both signatures come; the receiver knows one of them.
        assert await send(body, signature_header(["whsec_new", secret], now, body)) == 204


async def test_the_documented_python_receiver_verifies_deliveries(
    fleet: Running, tmp_path: Path
) -> None:
    script = tmp_path / "receiver.py"
    script.write_text(snippet("python"), encoding="utf-8")
    await check_receiver(fleet, [sys.executable, str(script)])


async def test_the_documented_javascript_receiver_verifies_deliveries(
    fleet: Running, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed here (issue 17 installs Node in CI)")
    script = tmp_path / "receiver.js"
    script.write_text(snippet("javascript"), encoding="utf-8")
    await check_receiver(fleet, [node, str(script)])
