"""How the admin service reads its peers' answers and degrades when they fail.

A peer's 404/409/422 reaches the admin as the same status (problem+json naming
the service); a peer that is down, slow or behind an open breaker is
``peer-unavailable`` (503) for a view with one source, and a ``partial`` entry
for a view that gathers from several (``settle``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from mindlinks_kit.errors import PeerUnavailable, Problem, problem_body
from mindlinks_kit.http import peer_problem
from mindlinks_kit.schemas import Page

T = TypeVar("T")
Record = dict[str, Any]
"""A peer's record as it answered it (the admin passes records through)."""

_PASSED_ON = {400: 422, 404: 404, 409: 409, 410: 409, 422: 422}
"""Peer status → the status the admin caller gets; anything else is a 502."""
_TITLES = {
    404: ("not-found", "Not found"),
    409: ("conflict", "Conflict with the current state"),
    422: ("invalid-input", "The request is not valid"),
    502: ("peer-error", "A service this request depends on gave an unexpected answer"),
}


class PeerAnswer(Problem):
    """A peer's refusal, passed on with the same status (or 502 when the
    refusal is ours to fix, e.g. the peer refused the admin service's token)."""

    def __init__(self, service: str, status: int, code: str, detail: str) -> None:
        super().__init__(detail, service=service)
        self.answer_status = status
        self.answer_code = code

    def body(self, instance: str | None = None) -> dict[str, Any]:
        _, title = _TITLES[self.answer_status if self.answer_status in _TITLES else 502]
        return problem_body(
            self.answer_status, self.answer_code, title, self.detail, instance, **self.extensions
        )


def refusal(service: str, response: httpx.Response) -> PeerAnswer:
    """The problem to answer for a peer's 4xx."""
    peer_code, peer_detail = peer_problem(response)
    status = _PASSED_ON.get(response.status_code, 502)
    if status == 502:
        return PeerAnswer(
            service,
            502,
            "peer-error",
            f"{service} answered {response.status_code}"
            + (f" ({peer_code}): {peer_detail}" if peer_code else ""),
        )
    default_code, _ = _TITLES[status]
    detail = f"{service}: {peer_detail}" if peer_detail else f"{service} answered {status}"
    return PeerAnswer(service, status, peer_code or default_code, detail)


def bad_answer(service: str, what: str) -> PeerAnswer:
    return PeerAnswer(service, 502, "peer-error", f"{service} gave an unreadable answer ({what})")


def record_of(answer: BaseModel) -> Record:
    """A declared answer as the record the admin passes through (camelCase JSON)."""
    return answer.model_dump(mode="json", by_alias=True)


def page_of(answer: Page[Any]) -> tuple[list[Record], str | None]:
    return [record_of(item) for item in answer.items], answer.next_cursor


def read(service: str, response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; a refusal otherwise."""
    if not 200 <= response.status_code < 300:
        raise refusal(service, response)
    try:
        return response.json()
    except ValueError:
        raise bad_answer(service, "not JSON") from None


def read_record(service: str, response: httpx.Response, *, missing: bool = False) -> Record | None:
    """One record; ``None`` for a 404 when ``missing`` is allowed."""
    if missing and response.status_code == 404:
        return None
    body = read(service, response)
    if not isinstance(body, dict):
        raise bad_answer(service, "not an object")
    return body


@dataclass(frozen=True)
class Missing:
    """A source a view could not read: ``{service, detail}`` in ``partial``."""

    service: str
    detail: str
    reason: str
    """``timeout``, ``circuit-open``, ``connection-failed``, ``server-error``,
    ``unavailable`` or ``refused``."""
    problem: PeerAnswer | None = None
    """The peer's refusal (4xx), which a view's main source passes on as is."""


def unavailable(service: str, exc: PeerUnavailable) -> Missing:
    """Why a peer call raised ``PeerUnavailable``: the peer itself, its open
    breaker, or auth (where the admin's service token comes from)."""
    culprit = str(exc.extensions.get("peer") or service)
    reason = str(exc.extensions.get("reason") or "unavailable")
    if culprit != service:
        return Missing(service, f"{service} was not called: {culprit} is unavailable", reason)
    return Missing(service, f"{service} did not answer ({reason.replace('-', ' ')})", reason)


async def settle(service: str, call: Awaitable[T], deadline: float) -> T | Missing:
    """``call``'s result, or what kept it from ``service`` (never raises a peer failure)."""
    try:
        async with asyncio.timeout(deadline):
            return await call
    except TimeoutError:
        return Missing(service, f"{service} did not answer (timeout)", "timeout")
    except PeerUnavailable as exc:
        return unavailable(service, exc)
    except PeerAnswer as exc:
        return Missing(service, exc.detail, "refused", exc)


def one_source(missing: Missing) -> Problem:
    """What a view answers when its main source failed: the source's refusal
    as it was (404, 409, 422), else 503 ``peer-unavailable``."""
    if missing.problem is not None:
        return missing.problem
    return PeerUnavailable(missing.detail, peer=missing.service)


async def state_before(service: str, call: Awaitable[Record], deadline: float) -> Record:
    """A change's target as its owner holds it, for the ``requested`` record.

    The owner's refusal of the target (404 unknown, 409, 422) is passed on
    before anything is recorded or changed. When the owner cannot answer
    (down, slow, circuit open, an answer the admin cannot use) the change still
    goes ahead and ``before`` says why, as a view's ``partial`` does:
    ``{"partial": [{"service", "detail"}]}``."""
    found = await settle(service, call, deadline)
    if not isinstance(found, Missing):
        return found
    if found.problem is not None and found.problem.answer_status != 502:
        raise found.problem
    return {"partial": [{"service": found.service, "detail": found.detail}]}


class Gathered:
    """What a gathering view got: each result, or ``None`` with the reason in ``partial``."""

    def __init__(self) -> None:
        self.partial: list[Missing] = []

    def take(self, result: T | Missing) -> T | None:
        if isinstance(result, Missing):
            self.partial.append(result)
            return None
        return result
