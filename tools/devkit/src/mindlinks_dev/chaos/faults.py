"""The faults the chaos suite injects, each with the time the fleet took to
recover from it: every part ready again and a canary read through the edge
answered. Direct reads and writes (the outboxes to re-deliver, the objects a
webhook names) go to the embedded AWS itself, never through its proxy."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS
from mindlinks_dev.chaos.fleet import ChaosFleet
from mindlinks_fleet import FLEET
from mindlinks_kyc.providers.local import WEBHOOK_PATH as KYC_WEBHOOK
from mindlinks_kyc.providers.local import LocalKycProvider
from mindlinks_kyc.settings import LOCAL_WEBHOOK_SECRET as KYC_SECRET
from mindlinks_payment.providers.local import WEBHOOK_PATH as STRIPE_WEBHOOK
from mindlinks_payment.providers.local import sign, stripe_event
from mindlinks_payment.settings import LOCAL_WEBHOOK_SECRET as STRIPE_SECRET

OUTAGE_SECONDS = 10.0
SLOW_SECONDS = 5.0
SLOW_FOR = 20.0
FAILING_FOR = 15.0
RECOVERY_TIMEOUT = 180.0


@dataclass
class Fault:
    name: str
    detail: str = ""
    started: float = 0.0
    ended: float = 0.0
    recovered_after: float | None = None
    """Seconds from the end of the fault until the fleet answered again."""
    refused: list[str] = field(default_factory=list)
    """What a webhook fault expected refused and was not (must stay empty)."""


def aws(fleet: ChaosFleet, name: str) -> Any:
    session = boto3.Session(region_name="eu-west-1", **LOCAL_CREDENTIALS)
    return session.client(name, endpoint_url=fleet.aws_direct)


def scan(fleet: ChaosFleet, service: str, table: str) -> list[dict[str, Any]]:
    """Every item of a table of the fleet, as plain values."""
    client = aws(fleet, "dynamodb")
    paginator = client.get_paginator("scan")
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    for page in paginator.paginate(TableName=f"{fleet.prefix}{service}-{table}"):
        items += [{k: deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"]]
    return items


class Injector:
    def __init__(
        self,
        fleet: ChaosFleet,
        rng: random.Random,
        canary: Callable[[], bool],
        say: Callable[[str], None],
    ) -> None:
        self.fleet = fleet
        self.rng = rng
        self.canary = canary
        self.say = say

    async def inject(self, name: str) -> Fault:
        fault = Fault(name, started=time.monotonic())
        action = getattr(self, name.replace("-", "_"))
        try:
            fault.detail = await action(fault)
        except Exception as exc:  # the injector's own failure fails the run, not the fleet
            fault.detail = f"could not inject: {exc!r}"[:300]
            fault.refused.append(f"{name} could not be injected: {exc!r}"[:300])
        fault.ended = time.monotonic()
        fault.recovered_after = await self.recovery(fault.ended)
        recovered = (
            f"recovered in {fault.recovered_after:.1f}s"
            if fault.recovered_after is not None
            else "NOT recovered"
        )
        self.say(f"fault {name}: {fault.detail}; {recovered}")
        return fault

    async def recovery(self, since: float) -> float | None:
        deadline = since + RECOVERY_TIMEOUT
        while time.monotonic() < deadline:
            statuses = await self.fleet.ready(timeout=2.0)
            if all(s == "ready" for s in statuses.values()) and await asyncio.to_thread(
                self.canary
            ):
                return time.monotonic() - since
            await asyncio.sleep(0.2)
        return None

    # -- the faults ----------------------------------------------------------

    async def kill(self, fault: Fault) -> str:
        """kill -9 of a random service; the supervisor restarts it."""
        part = self.rng.choice(self.fleet.services)
        before = len(self.fleet.restarts)
        pid = self.fleet.supervisor.processes[part.name].pid
        os.kill(pid, signal.SIGKILL)
        for _ in range(600):
            if len(self.fleet.restarts) > before:
                break
            await asyncio.sleep(0.1)
        return f"kill -9 {part.name} (pid {pid})"

    async def aws_down(self, fault: Fault) -> str:
        return await self._outage("aws", "the embedded AWS")

    async def redis_down(self, fault: Fault) -> str:
        return await self._outage("redis", "Redis")

    async def _outage(self, link: str, what: str) -> str:
        proxy = self.fleet.proxies[link]
        await proxy.cut_link()
        await asyncio.sleep(OUTAGE_SECONDS)
        await proxy.heal()
        return f"{what} unreachable for {OUTAGE_SECONDS:.0f}s"

    async def slow_peer(self, fault: Fault) -> str:
        proxy = self.fleet.proxies[self.fleet.victim]
        proxy.delay = SLOW_SECONDS
        await asyncio.sleep(SLOW_FOR)
        proxy.delay = 0.0
        await proxy.cut_link()
        await asyncio.sleep(FAILING_FOR)
        await proxy.heal()
        return (
            f"{self.fleet.victim} slow ({SLOW_SECONDS:.0f}s a request) for {SLOW_FOR:.0f}s, "
            f"then unreachable for {FAILING_FOR:.0f}s"
        )

    async def redeliver_events(self, fault: Fault) -> str:
        """Published events delivered again, twice each, in a shuffled order."""
        return await asyncio.to_thread(self._redeliver)

    def _redeliver(self) -> str:
        published = [
            item
            for service in FLEET.services
            if FLEET.publishes(service.name)
            for item in scan(self.fleet, service.name, "outbox")
            if "sentAt" in item
        ]
        chosen = self.rng.sample(published, min(40, len(published)))
        copies = chosen + chosen
        self.rng.shuffle(copies)
        events = aws(self.fleet, "events")
        bus = f"{self.fleet.prefix}{FLEET.bus}"
        for item in copies:
            entry = {
                "EventBusName": bus,
                "Source": item["source"],
                "DetailType": item["detailType"],
                "Detail": item["detail"],
            }
            events.put_events(Entries=[entry])
        names = sorted({item["detailType"] for item in chosen})
        return f"{len(chosen)} published events delivered twice more, shuffled ({', '.join(names)})"

    async def webhooks(self, fault: Fault) -> str:
        """Stripe and KYC webhooks twice, late, and wrongly signed."""
        return await asyncio.to_thread(self._webhooks, fault)

    def _webhooks(self, fault: Fault) -> str:
        with httpx.Client(base_url=self.fleet.edge_url, timeout=30) as edge:
            stripe = self._stripe(edge, fault)
            kyc = self._kyc(edge, fault)
        return f"{stripe}; {kyc}"

    def _stripe(self, edge: httpx.Client, fault: Fault) -> str:
        intents = [
            json.loads(item["document"])
            for item in scan(self.fleet, "payment", "idempotency")
            if str(item["key"]).startswith("local-stripe:pi_")
        ]
        succeeded = [i for i in intents if i.get("status") == "succeeded"]
        if not succeeded:
            return "no succeeded intent to replay yet"
        intent = self.rng.choice(succeeded)
        event = stripe_event("payment_intent.succeeded", intent)
        body = json.dumps(event)
        now = int(time.time())

        def post(signature: str) -> int:
            headers = {"Stripe-Signature": signature, "content-type": "application/json"}
            return edge.post(STRIPE_WEBHOOK, content=body, headers=headers).status_code

        twice = [post(sign(body, STRIPE_SECRET, now)) for _ in range(2)]
        late = post(sign(body, STRIPE_SECRET, now - 3600))
        forged = post(sign(body, "whsec_not_the_secret", now))
        if late < 400 or late >= 500:
            fault.refused.append(f"a stale Stripe webhook answered {late}")
        if forged < 400 or forged >= 500:
            fault.refused.append(f"a wrongly signed Stripe webhook answered {forged}")
        return (
            f"payment_intent.succeeded for {intent['id']} twice ({twice}), "
            f"an hour late ({late}), wrongly signed ({forged})"
        )

    def _kyc(self, edge: httpx.Client, fault: Fault) -> str:
        verified = [s for s in scan(self.fleet, "kyc", "sessions") if s.get("status") == "approved"]
        if not verified:
            return "no approved KYC session to replay yet"
        session = self.rng.choice(verified)
        provider = LocalKycProvider(
            secret=KYC_SECRET, public_base_url="", client=httpx.AsyncClient(), webhook_url=""
        )

        def decision(
            decided_at: str | None, secret: str = KYC_SECRET
        ) -> tuple[bytes, dict[str, str]]:
            provider.secret = secret
            return provider.signed_decision(
                provider_session_id=session["providerSessionId"],
                status="approved",
                reason=None,
                vendor_data=session["contractorId"],
                accepted_at=session["createdAt"],
                decided_at=decided_at,
                person_name=session.get("applicantName"),
            )

        def post(raw: bytes, headers: dict[str, str]) -> int:
            return edge.post(KYC_WEBHOOK, content=raw, headers=headers).status_code

        raw, headers = decision(None)
        twice = [post(raw, headers) for _ in range(2)]
        late = post(*decision("2020-01-01T00:00:00Z"))
        forged = post(*decision(None, secret="not-the-secret"))  # noqa: S106 - a forgery
        if late < 400 or late >= 500:
            fault.refused.append(f"a stale KYC webhook answered {late}")
        if forged < 400 or forged >= 500:
            fault.refused.append(f"a wrongly signed KYC webhook answered {forged}")
        return (
            f"KYC decision for session {session['id']} twice ({twice}), "
            f"years late ({late}), wrongly signed ({forged})"
        )
