"""Run ``mindlinks-ops`` in-process and read what it printed and returned.

The command writes to its own streams (not pytest's ``capsys``): create-admin
builds the auth app in this process, and the loggers that app configures must
keep writing somewhere that outlives the test.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from mindlinks_ops.cli import parser, run
from mindlinks_ops.console import Console


@dataclass
class Result:
    code: int
    out: str
    err: str


class Cli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.transport: httpx.AsyncBaseTransport | None = None
        self.otp: dict[str, Callable[[], str]] = {}
        """email → that admin's authenticator: ``--email`` of one of them gets
        ``--otp`` with its current code, as an operator would type it."""

    async def __call__(self, *argv: str, stdin: str | None = None) -> Result:
        email = argv[argv.index("--email") + 1] if "--email" in argv else None
        if email in self.otp and "--otp" not in argv:
            argv = (*argv, "--otp", self.otp[email]())
        if stdin is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        code = await run(argv, console=Console(out, err), transport=self.transport)
        return Result(code, out.getvalue(), err.getvalue())

    @staticmethod
    def usage_error(*argv: str) -> str:
        """argparse refuses the command line (exit code 2); returns its message."""
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
            parser().parse_args(argv)
        assert exited.value.code == 2
        return err.getvalue()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name in ("MINDLINKS_ADMIN_TOKEN", "MINDLINKS_ADMIN_PASSWORD", "MINDLINKS_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return Cli(monkeypatch)
