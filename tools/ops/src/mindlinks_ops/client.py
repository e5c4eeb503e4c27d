"""The admin API over HTTP: signing in, calling ``/v1/admin/...``, and turning
what goes wrong into one readable line.

Everything goes through the public admin API, never a service's internal
route: the admin service authorizes and audits each action.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_API = "http://127.0.0.1:8080"
"""The local edge (``make run``)."""
TIMEOUT_SECONDS = 30.0
"""Replaying a large dead-letter queue takes a while; reads answer far sooner."""


class CommandFailed(Exception):
    """Ends a command with ``message`` on stderr and ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiProblem(CommandFailed):
    """The API answered an RFC 9457 problem (or another error status)."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("code", ""))
        self.title = str(body.get("title") or f"HTTP {status}")
        self.detail = str(body.get("detail") or "")
        self.body = body
        super().__init__(problem_line(self.title, self.detail, body.get("errors")))


def problem_line(title: str, detail: str, errors: Any = None) -> str:
    """``title: detail`` (the title alone when they say the same), then one
    line per invalid field."""
    line = title if not detail or detail == title else f"{title}: {detail}"
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict):
                where = ".".join(str(p) for p in error.get("location", []) if p != "body")
                line += f"\n  {where or '-'}: {error.get('message', '')}"
    return line


@dataclass(frozen=True)
class Login:
    """How to sign in when no token is given: ``POST /v1/auth/login``."""

    email: str
    password: str | None = None
    otp: str | None = None


Prompt = Callable[[str], str]


class AdminApi:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"user-agent": "mindlinks-ops"},
        )

    async def __aenter__(self) -> AdminApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def sign_in(self, login: Login, prompt: Prompt | None = None) -> None:
        """Exchange the operator's email and password (and one-time code) for
        an access token. An account with MFA and no ``--otp`` is asked for the
        code when a terminal is attached."""
        prompt = prompt or getpass.getpass
        password = login.password
        if password is None:
            password = os.environ.get("MINDLINKS_ADMIN_PASSWORD") or _ask(
                prompt, f"Password for {login.email}: "
            )
        body: dict[str, Any] = {"email": login.email, "password": password}
        if login.otp:
            body["mfaCode"] = login.otp
        try:
            tokens = await self._send("POST", "/v1/auth/login", json=body, authenticate=False)
        except ApiProblem as problem:
            if problem.code != "mfa-required" or login.otp or not sys.stdin.isatty():
                if problem.code == "mfa-required":
                    problem.message += " (give --otp)"
                raise
            body["mfaCode"] = _ask(prompt, "One-time code: ")
            tokens = await self._send("POST", "/v1/auth/login", json=body, authenticate=False)
        self.token = str(tokens["accessToken"])

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return await self._send("GET", path, params=query)

    async def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return await self._send("POST", path, json=body)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        authenticate: bool = True,
    ) -> Any:
        headers = {}
        if authenticate:
            if not self.token:
                raise CommandFailed("not signed in: set MINDLINKS_ADMIN_TOKEN or give --email")
            headers["authorization"] = f"Bearer {self.token}"
        url = f"{self.base_url}{path}"
        try:
            response = await self.http.request(
                method, path, params=params, json=json, headers=headers
            )
        except httpx.TimeoutException:
            raise CommandFailed(f"{url} did not answer in time") from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise CommandFailed(f"could not reach {url}: {reason}") from None
        if response.is_error:
            raise ApiProblem(response.status_code, _error_body(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CommandFailed(f"{url} answered {response.status_code} but not JSON") from None


def _error_body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    return {"title": f"HTTP {response.status_code} {response.reason_phrase}", "detail": text}


def _ask(prompt: Prompt, question: str) -> str:
    try:
        answer = prompt(question)
    except (EOFError, KeyboardInterrupt):
        raise CommandFailed("cancelled") from None
    if not answer:
        raise CommandFailed("nothing entered")
    return answer
