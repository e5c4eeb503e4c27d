"""Running the fleet: every service's health within a deadline, the event
queues and their dead letters (replay, discard), the ledger's integrity."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from typing import Any

from mindlinks_admin.clients import Ledger
from mindlinks_admin.domain import Actor, FleetView, Outcome, Probe, QueueRow, UnknownQueue
from mindlinks_admin.ops import Ops
from mindlinks_admin.peers import Missing, Record, settle
from mindlinks_admin.service.audit import Audit
from mindlinks_kit.clock import now_iso
from mindlinks_kit.declaration import Fleet


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Operations:
    def __init__(
        self,
        *,
        fleet: Fleet,
        ops: Ops,
        ledger: Ledger,
        audit: Audit,
        fleet_deadline: float,
        deadline: float,
    ) -> None:
        self.fleet = fleet
        self.ops = ops
        self.ledger = ledger
        self.audit = audit
        self.fleet_deadline = fleet_deadline
        self.deadline = deadline

    # the fleet ----------------------------------------------------------------------

    async def fleet_view(self) -> FleetView:
        """Every service's live, ready and ops status, all probes at once and
        each bounded by the deadline: a hung service costs the deadline, not more."""
        probes = await asyncio.gather(*(self._probe(s.name) for s in self.fleet.services))
        partial = [
            Missing(p.service, p.details[0], p.error or "unavailable") for p in probes if p.details
        ]
        return FleetView(services=list(probes), checked_at=now_iso(), partial=partial)

    async def _probe(self, service: str) -> Probe:
        d = self.fleet_deadline

        async def timed(call: Awaitable[Record]) -> tuple[Record, float]:
            started = time.perf_counter()
            answer = await call
            return answer, round((time.perf_counter() - started) * 1000, 1)

        live, ready, status = await asyncio.gather(
            settle(service, timed(self.ops.live(service, d)), d),
            settle(service, self.ops.ready(service, d), d),
            settle(service, self.ops.status(service, d), d),
        )
        probe = Probe(service=service, live=False, ready=False)
        if isinstance(live, Missing):
            probe.error = live.reason
            probe.details.append(live.detail)
        else:
            answer, probe.latency_ms = live
            probe.live = True
            probe.version = str(answer.get("version") or "") or None
        if isinstance(ready, Missing):
            if probe.live:
                probe.details.append(f"{service} is not ready: {ready.detail}")
        else:
            probe.ready = ready.get("status") == "ready"
        if isinstance(status, Missing):
            if probe.live:
                probe.details.append(status.detail)
        else:
            probe.version = str(status.get("version") or probe.version or "") or None
            breakers = status.get("breakers")
            probe.breakers = (
                {str(k): str(v) for k, v in breakers.items()}
                if isinstance(breakers, dict)
                else None
            )
            probe.outbox_backlog = _int(status.get("outboxBacklog"))
            queue = status.get("queue")
            probe.queue = queue if isinstance(queue, dict) else None
            probe.revoked_subjects = _int(status.get("revokedSubjects"))
        return probe

    # event queues ---------------------------------------------------------------------

    def _consumers(self) -> Sequence[str]:
        return [s.name for s in self.fleet.services if s.queue]

    def _queue_of(self, service: str) -> str:
        if service not in self._consumers():
            raise UnknownQueue(
                f"{service!r} has no event queue; one of: {', '.join(self._consumers())}"
            )
        return service

    async def queues(self) -> tuple[list[QueueRow], list[Missing]]:
        """Each consuming service's queue depth, in flight and dead letters."""
        names = self._consumers()
        answers = await asyncio.gather(
            *(settle(n, self.ops.status(n, self.deadline), self.deadline) for n in names)
        )
        rows: list[QueueRow] = []
        partial: list[Missing] = []
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, Missing):
                partial.append(answer)
                continue
            queue = answer.get("queue")
            queue = queue if isinstance(queue, dict) else {}
            rows.append(
                QueueRow(
                    name,
                    depth=_int(queue.get("depth")),
                    in_flight=_int(queue.get("inFlight")),
                    dead_letters=_int(queue.get("deadLetters")),
                )
            )
        return rows, partial

    async def dead_letters(self, service: str, limit: int) -> list[Record]:
        return await self.ops.dead_letters(self._queue_of(service), limit)

    async def replay(
        self,
        actor: Actor,
        service: str,
        message_ids: list[str],
        every: bool,
        reason: str | None,
    ) -> Record:
        """Back to the source queue (the consumer's inbox makes a repeat harmless)."""
        service = self._queue_of(service)
        return await self.audit.change(
            actor,
            "dead-letters.replay",
            f"queue:{service}",
            reason=reason,
            before={"all": True} if every else {"messageIds": message_ids},
            apply=lambda: self.ops.replay(service, None if every else message_ids, every),
        )

    async def discard(
        self, actor: Actor, service: str, message_ids: list[str], reason: str
    ) -> Record:
        """Drop dead letters for good. Each message is its own audit target
        (``message:<service>:<id>``) and its ``requested`` record keeps the
        body as the DLQ held it, written before anything is deleted."""
        service = self._queue_of(service)
        held = {str(m.get("messageId")): m for m in await self.ops.dead_letters(service, 100)}
        befores = {f"message:{service}:{i}": held.get(i) for i in message_ids}

        def outcomes(answer: Record) -> dict[str, Outcome]:
            discarded = {
                str(m.get("messageId")): m
                for m in answer.get("discarded") or []
                if isinstance(m, dict)
            }
            told: dict[str, Outcome] = {}
            for i in message_ids:
                target = f"message:{service}:{i}"
                if i in discarded:
                    told[target] = Outcome(after={"discarded": discarded[i]})
                else:
                    told[target] = Outcome(
                        error={"status": 404, "code": "not-found", "detail": "not in the DLQ"}
                    )
            return told

        return await self.audit.changes(
            actor,
            "dead-letters.discard",
            befores,
            reason=reason,
            apply=lambda: self.ops.discard(service, message_ids, reason),
            outcomes=outcomes,
        )

    # the ledger -----------------------------------------------------------------------

    async def verify_ledger(self, actor: Actor) -> Record:
        """The whole journal checked by the ledger service (its only source)."""
        found = await self.ledger.verify()
        await self.audit.viewed(actor, "ledger.verify", "ledger")
        return found
