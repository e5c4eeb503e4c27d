"""The chaos run's report: what was injected, how the fleet recovered, what
the traffic saw and what the invariants found; printed, and written into
``docs/reliability.md`` next to the command and seed that produced it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mindlinks_dev.chaos.faults import Fault
from mindlinks_dev.chaos.invariants import Findings
from mindlinks_dev.chaos.traffic import Attempts, Lifecycle
from mindlinks_dev.supervisor import Restart

BLOCK = re.compile(r"<!-- chaos:begin -->.*?<!-- chaos:end -->", re.S)
DESCRIPTION = """\
`make chaos` (`mindlinks_dev.chaos`) starts a fleet of its own from `make run`'s
parts (the embedded AWS, a Redis of its own, every service as its own uvicorn
process under the restarting supervisor, the edge, on ports +10000) with a TCP
fault proxy in front of the embedded AWS, of Redis, and of one peer that other
services call, chosen by the seed. Through the edge, 50 complete lifecycles
run at once: client and company, invitation, contractor with KYC, payout
account, contract, both signatures, activation, payment schedule, a payment
confirmed by the local Stripe's signed webhook, and its release. Each runs in
a thread behind a client that retries as a dashboard does: connection errors,
429, 5xx and `409 idempotency-key-in-flight`, honouring `Retry-After`, for up
to 3 minutes per request; replayed steps are recognised by their 409 code.

Meanwhile, in an order drawn from the printed seed: `kill -9` of a random
service (three times; the supervisor restarts it), the embedded AWS and then
Redis unreachable for 10 s (nothing listens; live connections are cut), the
chosen peer slow (5 s per request) for 20 s and then unreachable for 15 s,
forty published events delivered again twice each and shuffled (duplicates
and out of order, straight onto the bus), and a Stripe and a KYC webhook each
delivered twice, an hour or years late, and wrongly signed (the late and
forged ones must be refused). Events and webhooks are replayed once more
after the traffic, when every kind exists. After each fault the suite times
the recovery: every part ready and a canary read through the edge answered.

Then the invariants, read from the fleet's own tables in the embedded AWS
(re-checked for up to 3 minutes while events settle): every contract with
both signatures recorded is `active` with exactly one scheduled item per
milestone; no escrow has two charges or two transfers, no intent backs two
charges, and the local Stripe holds at most one intent and one transfer per
escrow; every transfer has exactly one invoice and each contractor's invoice
numbers run 1..n without a gap or a repeat; every event in every outbox was
published and is in the inbox of every consumer (the inbox row commits with
the handler's effect, so once means once), and no queue or dead-letter queue
holds anything; the ledger verifies end to end (through the admin API). A
request that took 35 s or more counts as hung. The run fails on any failed
lifecycle, unrecovered fault, accepted forgery, hung request or breached
invariant.
"""


@dataclass
class Report:
    seed: int
    victim: str
    lifecycles_planned: int
    faults: list[Fault] = field(default_factory=list)
    lifecycles: list[Lifecycle] = field(default_factory=list)
    attempts: Attempts = field(default_factory=Attempts)
    findings: Findings = field(default_factory=Findings)
    restarts: list[Restart] = field(default_factory=list)
    seconds: float = 0.0

    def finish(
        self,
        faults: Sequence[Fault],
        lifecycles: Sequence[Lifecycle],
        attempts: Attempts,
        findings: Findings,
        restarts: Sequence[Restart],
    ) -> None:
        self.faults = list(faults)
        self.lifecycles = list(lifecycles)
        self.attempts = attempts
        self.findings = findings
        self.restarts = list(restarts)

    @property
    def failures(self) -> list[str]:
        """Everything that makes the run fail, in words."""
        failed = [f"lifecycle {c.number} failed: {c.error}" for c in self.lifecycles if not c.ok]
        unrecovered = [
            f"no recovery after {f.name}" for f in self.faults if f.recovered_after is None
        ]
        accepted = [problem for f in self.faults for problem in f.refused]
        hung = [f"hung: {h}" for h in self.attempts.hung]
        return failed + unrecovered + accepted + hung + self.findings.breaches

    @property
    def passed(self) -> bool:
        return len(self.lifecycles) == self.lifecycles_planned and not self.failures

    def lines(self) -> list[str]:
        completed = [c for c in self.lifecycles if c.ok]
        retried = [c for c in completed if c.retries]
        seconds = sorted(c.seconds for c in completed)
        median = seconds[len(seconds) // 2] if seconds else 0.0
        out = [
            f"Seed {self.seed}; slow peer: {self.victim}; {self.seconds:.0f} s in all.",
            "",
            "| fault | what | recovered after |",
            "|---|---|---|",
        ]
        for fault in self.faults:
            recovered = (
                f"{fault.recovered_after:.1f} s" if fault.recovered_after is not None else "never"
            )
            if fault.last_waited_on:
                recovered += f" (last waited on: {fault.last_waited_on})"
            out.append(f"| {fault.name} | {fault.detail} | {recovered} |")
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.attempts.statuses.items()))
        out += [
            "",
            f"- Lifecycles: {len(completed)} of {self.lifecycles_planned} completed "
            f"({len(retried)} needed retries; median {median:.0f} s, "
            f"slowest {seconds[-1] if seconds else 0:.0f} s).",
            f"- Requests: {sum(self.attempts.statuses.values())} attempts ({statuses}); "
            f"{self.attempts.retries} retried; slowest {self.attempts.slowest:.1f} s; "
            f"{len(self.attempts.hung)} hung.",
            f"- Supervisor restarts: {len(self.restarts)} "
            f"({', '.join(f'{r.name} (exit {r.code})' for r in self.restarts) or 'none'}).",
            "- Invariants: "
            + "; ".join(f"{name} {value}" for name, value in self.findings.counts.items())
            + ".",
            f"- Lost or breached: {len(self.failures)}.",
        ]
        out += [f"  - {failure}" for failure in self.failures[:30]]
        return out

    def text(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        summary = (
            f"chaos: {verdict} — {sum(c.ok for c in self.lifecycles)}/{self.lifecycles_planned} "
            f"lifecycles, {len(self.faults)} faults, {len(self.failures)} lost or breached "
            f"(seed {self.seed})"
        )
        return "\n".join([*self.lines(), "", summary])


def write_docs(path: Path, report: Report, command: str) -> None:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    body = "\n".join(
        [
            "<!-- chaos:begin -->",
            "## Fault injection (`make chaos`)",
            "",
            DESCRIPTION,
            f"Latest full run, {day}, on this 2-core machine:",
            "",
            "```",
            command,
            "```",
            "",
            *report.lines(),
            "",
            f"Verdict: **{'pass' if report.passed else 'fail'}**.",
            "<!-- chaos:end -->",
        ]
    )
    text = path.read_text(encoding="utf-8")
    path.write_text(BLOCK.sub(lambda _: body, text), encoding="utf-8")
