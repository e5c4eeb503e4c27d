"""Pass 1: the product's own defences, as ``make run`` configures them, hold
under load.

- One client address scrapes profiles (``/v1/auth/me``, ``/v1/users/me``)
  at three times the edge's per-address rate: what exceeds the token bucket
  is refused with ``429`` problem+json and a ``Retry-After``, the rest is
  served; a polite client on another address, running the mix at a quarter
  of the rate, is never refused. (The scraper reads rather than writes so
  that what the edge lets through stays within what a shared 2-core machine
  serves: this pass tests the defences, pass 2 the capacity.)
- A failed-login burst against one account from one address is slowed down
  by auth (``429 too-many-attempts``) after the free failures, and the owner
  signs in from another address at once.
- Password spraying (many accounts) from one address hits the address limit.
- Nothing answers 5xx.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace

import httpx

from mindlinks_dev.demo import PASSWORD
from mindlinks_dev.load.driver import client, limited_problem, open_model
from mindlinks_dev.load.mix import AUTH_ME, USERS_ME, Mix
from mindlinks_dev.load.stats import Recorder, Summary

ABUSER, POLITE, GUESSER, OWNER, SPRAYER = (f"127.0.0.{n}" for n in range(1, 6))
PAIR_FREE_FAILURES = 5
"""auth's ``LOGIN_PAIR_FREE_FAILURES`` default."""
ADDRESS_BURST = 50
"""auth's ``LOGIN_ADDRESS_BURST`` default."""
ADDRESS_INTERVAL = 10.0
"""auth's ``LOGIN_ADDRESS_INTERVAL_SECONDS`` default."""
WRONG = "not the password at all 0"


@dataclass
class DefenceReport:
    rate: float
    burst: int
    seconds: float
    abuser: Recorder
    polite: Recorder
    accepted_bound: float = 0.0
    """At most this many of the abuser's requests may pass: burst + rate x time."""
    guesses: list[str] = field(default_factory=list)
    """Status (and problem code) of each wrong guess at one account, in order."""
    owner_status: int = 0
    spray: Counter[str] = field(default_factory=Counter)
    spray_first_throttled: int = 0
    spray_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        total = self.abuser.total()
        return total.count - total.limited

    def rows(self) -> list[Summary]:
        return [
            replace(self.abuser.total(), route=f"abuser {ABUSER}, all routes"),
            replace(self.polite.total(), route=f"polite {POLITE}, all routes"),
        ]


def _outcome(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"{response.status_code} {response.json().get('code', '')}".strip()
    return str(response.status_code)


async def _over_limit(
    mix: Mix, edge: str, rate: float, burst: int, seconds: float, report: DefenceReport
) -> None:
    scraper = Mix(mix.pairs, mix.rng, weights={AUTH_ME: 1, USERS_ME: 1})
    async with client(edge, ABUSER) as abuser, client(edge, POLITE) as polite:
        await asyncio.gather(
            open_model(
                scraper.operation(abuser, report.abuser),
                report.abuser,
                rate=3 * rate,
                seconds=seconds,
            ),
            open_model(
                mix.operation(polite, report.polite), report.polite, rate=rate / 4, seconds=seconds
            ),
        )
    report.accepted_bound = burst + rate * report.abuser.seconds + 1


async def _guessing(mix: Mix, edge: str, report: DefenceReport) -> None:
    victim = mix.pairs[0].client.email
    async with client(edge, GUESSER) as guesser, client(edge, OWNER) as owner:
        for _ in range(PAIR_FREE_FAILURES + 3):
            body = {"email": victim, "password": WRONG}
            guess = await guesser.post("/v1/auth/login", json=body)
            report.guesses.append(_outcome(guess))
            if guess.status_code == 429 and (wrong := limited_problem(guess)):
                report.failures.append(f"throttled login: {wrong}")
        right = await owner.post("/v1/auth/login", json={"email": victim, "password": PASSWORD})
        report.owner_status = right.status_code


async def _spraying(edge: str, rate: float, report: DefenceReport) -> None:
    """Wrong passwords at many accounts from one address, paced under the
    edge's limit so that only auth's address limit can answer 429."""
    began = time.monotonic()
    async with client(edge, SPRAYER) as sprayer:
        for attempt in range(ADDRESS_BURST + 10):
            email = f"sprayed-{uuid.uuid4().hex[:10]}@example.com"
            tried = await sprayer.post("/v1/auth/login", json={"email": email, "password": WRONG})
            outcome = _outcome(tried)
            report.spray[outcome] += 1
            if tried.status_code == 429 and not report.spray_first_throttled:
                report.spray_first_throttled = attempt + 1
            await asyncio.sleep(1 / (rate / 2))
    report.spray_seconds = time.monotonic() - began


def _judge(report: DefenceReport) -> None:
    abuser, polite = report.abuser.total(), report.polite.total()
    failures = report.failures
    failures += report.abuser.problems + report.polite.problems
    if abuser.limited == 0:
        failures.append("the abuser was never refused with 429")
    if report.accepted > report.accepted_bound:
        failures.append(
            f"the edge let {report.accepted} of the abuser's requests through "
            f"(at most {report.accepted_bound:.0f} allowed)"
        )
    if report.accepted < 0.8 * report.rate * report.abuser.seconds:
        failures.append(f"the edge served only {report.accepted} of the abuser's requests")
    if polite.limited:
        failures.append(f"the polite client was refused {polite.limited} times")
    for name, summary in (("abuser", abuser), ("polite client", polite)):
        if summary.errors:
            failures.append(f"{summary.errors} errors for the {name}: {summary.statuses}")
    expected = ["401 invalid-credentials"] * PAIR_FREE_FAILURES
    if report.guesses[:PAIR_FREE_FAILURES] != expected or not all(
        g == "429 too-many-attempts" for g in report.guesses[PAIR_FREE_FAILURES:]
    ):
        failures.append(f"failed-login burst not throttled as documented: {report.guesses}")
    if report.owner_status != 200:
        failures.append(f"the owner could not sign in from another address: {report.owner_status}")
    # The address limit refills one failure per ADDRESS_INTERVAL while the spray runs.
    refilled = math.ceil(report.spray_seconds / ADDRESS_INTERVAL)
    if not ADDRESS_BURST < report.spray_first_throttled <= ADDRESS_BURST + refilled + 1:
        failures.append(
            f"password spraying first throttled at attempt {report.spray_first_throttled}, "
            f"not just after {ADDRESS_BURST} (+{refilled} refilled): {dict(report.spray)}"
        )
    if any(not outcome.startswith(("401", "429")) for outcome in report.spray):
        failures.append(f"password spraying got unexpected answers: {dict(report.spray)}")


async def defences(mix: Mix, edge: str, rate: float, burst: int, seconds: float) -> DefenceReport:
    """Run pass 1 against ``edge`` (limited at ``rate``/``burst`` per address)."""
    report = DefenceReport(rate, burst, seconds, Recorder(), Recorder())
    await _over_limit(mix, edge, rate, burst, seconds, report)
    await _guessing(mix, edge, report)
    await _spraying(edge, rate, report)
    _judge(report)
    return report


def lines(report: DefenceReport) -> list[str]:
    """The pass in words, for the terminal and the docs."""
    abuser = report.abuser.total()
    return [
        f"- Over the limit: one address scraped profiles at {3 * report.rate:.0f} req/s for "
        f"{report.seconds:.0f} s (3x the edge's {report.rate:.0f} req/s, burst {report.burst}): "
        f"{report.accepted} served (bound {report.accepted_bound:.0f} = burst + rate x "
        f"{report.abuser.seconds:.1f} s), {abuser.limited} refused with 429 problem+json and "
        f"`Retry-After`; a polite address running the mix at {report.rate / 4:.0f} req/s "
        "meanwhile: "
        f"{report.polite.total().count} requests, {report.polite.total().limited} refused.",
        f"- Failed-login burst at one account from one address: {', '.join(report.guesses)}; "
        f"the owner from another address then signed in: {report.owner_status}.",
        f"- Password spraying from one address ({sum(report.spray.values())} accounts, "
        f"under the edge's rate, {report.spray_seconds:.0f} s): first refused at attempt "
        f"{report.spray_first_throttled} "
        f"({', '.join(f'{k}x{v}' for k, v in sorted(report.spray.items()))}).",
        f"- 5xx or unexpected answers: {abuser.errors + report.polite.total().errors}.",
    ]
