"""The realistic mix: what the dashboards of many clients and contractors do
at once, one request per operation.

Reads dominate (profiles, contract lists and pages, payment schedules);
logins with the right password; and contracts moving through their whole
life — created (with an ``Idempotency-Key``), sent, signed by both parties
(each signer first steps up: a challenge, the mailed code read from the local
mailbox, its confirmation — one request per step, like the others),
seen active, their payment intents confirmed by the local Stripe and their
escrow released. A contract is taken out of its pool while a request moves
it on, so two operations never race for the same step; a step that fails
puts it back. The parties come ready from ``mindlinks_dev.load.parties``.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from mindlinks_dev.demo import PASSWORD, Person, contract_draft
from mindlinks_dev.load.driver import Caller, Operation
from mindlinks_dev.load.stats import Recorder

LOGIN = "POST /v1/auth/login"
AUTH_ME = "GET /v1/auth/me"
USERS_ME = "GET /v1/users/me"
CONTRACTS = "GET /v1/contracts"
CONTRACT = "GET /v1/contracts/{id}"
CREATE = "POST /v1/contracts"
SEND = "POST /v1/contracts/{id}/send"
SIGN = "POST /v1/signatures/contracts/{id}/sign"
CHALLENGE = "POST /v1/auth/step-up/challenges"
STEP_UP = "POST /v1/auth/step-up"
MAILBOX = "GET /v1/notifications/dev/mailbox"
SCHEDULE = "GET /v1/payments/contracts/{id}/schedule"
SUCCEED = "POST /v1/payments/dev/intents/{id}/succeed"
RELEASE = "POST /v1/payments/escrow/{id}/release"

WEIGHTS: Mapping[str, int] = {
    LOGIN: 6,
    AUTH_ME: 12,
    USERS_ME: 12,
    CONTRACTS: 12,
    CONTRACT: 14,
    CREATE: 5,
    SEND: 5,
    CHALLENGE: 10,
    MAILBOX: 10,
    STEP_UP: 10,
    SIGN: 10,
    SCHEDULE: 10,
    SUCCEED: 6,
    RELEASE: 6,
}
"""Relative frequency of each route when every one of them can be taken."""


@dataclass(frozen=True)
class Pair:
    """A client with an active company and a contractor engaged with it,
    KYC-verified, with a payout account."""

    client: Person
    contractor: Person
    contractor_id: str


@dataclass
class Deal:
    id: str
    pair: Pair
    signed_by: int = 0
    signer: Person | None = None
    """Who is stepping up to sign it now, and how far they got."""
    challenge_id: str = ""
    code: str = ""
    step_up_token: str = ""


@dataclass(frozen=True)
class Item:
    """A payment schedule item whose intent exists."""

    deal: Deal
    item_id: str
    intent_id: str
    escrow_id: str


@dataclass
class Mix:
    pairs: Sequence[Pair]
    rng: random.Random
    weights: Mapping[str, int] = field(default_factory=lambda: dict(WEIGHTS))
    drafts: deque[Deal] = field(default_factory=deque)
    sent: deque[Deal] = field(default_factory=deque)
    signing: deque[Deal] = field(default_factory=deque)
    """Signed by the client, waiting for the contractor."""
    challenged: deque[Deal] = field(default_factory=deque)
    """Its signer asked for a step-up code (``Deal.signer``)..."""
    coded: deque[Deal] = field(default_factory=deque)
    """...read the code from the mailbox..."""
    stepped_up: deque[Deal] = field(default_factory=deque)
    """...and holds a step-up token: ready to sign."""
    signed: list[Deal] = field(default_factory=list)
    """Fully signed, not yet seen active."""
    active: list[Deal] = field(default_factory=list)
    unpaid: deque[Item] = field(default_factory=deque)
    paid: dict[str, Item] = field(default_factory=dict)
    """Intent confirmed, escrow not yet seen funded (item id → item)."""
    funded: deque[Item] = field(default_factory=deque)
    seen_items: set[str] = field(default_factory=set)
    progress: Counter[str] = field(default_factory=Counter)
    """Contracts created, sent, fully signed, seen active; intents paid; escrows released."""

    def operation(self, client: httpx.AsyncClient, recorder: Recorder) -> Operation:
        """One operation of the mix per call, sent through ``client``."""

        async def run(arrival: float) -> None:
            await self.step(self.choose())(Caller(client, recorder, arrival))

        return run

    def choose(self) -> str:
        ready = [route for route in self.weights if self.ready(route)]
        return self.rng.choices(ready, [self.weights[route] for route in ready])[0]

    def ready(self, route: str) -> bool:
        pools: dict[str, Sequence[object]] = {
            CONTRACT: self.signed or self.active or self.drafts or self.sent,
            SEND: self.drafts,
            CHALLENGE: self.sent or self.signing,
            MAILBOX: self.challenged,
            STEP_UP: self.coded,
            SIGN: self.stepped_up,
            SCHEDULE: self.active,
            SUCCEED: self.unpaid,
            RELEASE: self.funded,
        }
        return bool(pools.get(route, self.pairs))

    def step(self, route: str) -> Callable[[Caller], Awaitable[None]]:
        steps: dict[str, Callable[[Caller], Awaitable[None]]] = {
            LOGIN: self.login,
            AUTH_ME: self.auth_me,
            USERS_ME: self.users_me,
            CONTRACTS: self.contracts,
            CONTRACT: self.contract,
            CREATE: self.create,
            SEND: self.send,
            CHALLENGE: self.challenge,
            MAILBOX: self.mailbox,
            STEP_UP: self.step_up,
            SIGN: self.sign,
            SCHEDULE: self.schedule,
            SUCCEED: self.succeed,
            RELEASE: self.release,
        }
        return steps[route]

    def person(self) -> Person:
        pair = self.rng.choice(self.pairs)
        return self.rng.choice((pair.client, pair.contractor))

    async def login(self, call: Caller) -> None:
        person = self.person()
        body = {"email": person.email, "password": PASSWORD}
        response = await call("POST", LOGIN, "/v1/auth/login", expect=(200,), json=body)
        if response is not None:
            person.token = response.json()["accessToken"]

    async def auth_me(self, call: Caller) -> None:
        await call("GET", AUTH_ME, "/v1/auth/me", expect=(200,), headers=self.person().auth)

    async def users_me(self, call: Caller) -> None:
        await call("GET", USERS_ME, "/v1/users/me", expect=(200,), headers=self.person().auth)

    async def contracts(self, call: Caller) -> None:
        await call("GET", CONTRACTS, "/v1/contracts", expect=(200,), headers=self.person().auth)

    async def contract(self, call: Caller) -> None:
        # Mostly the contracts waiting for activation: their dashboards poll.
        waiting = self.signed and self.rng.random() < 0.6
        pool = self.signed if waiting else self.active or self.signed
        deal = self.rng.choice(pool) if pool else self.rng.choice([*self.drafts, *self.sent])
        headers = self.rng.choice((deal.pair.client, deal.pair.contractor)).auth
        url = f"/v1/contracts/{deal.id}"
        response = await call("GET", CONTRACT, url, expect=(200,), headers=headers)
        if response is not None and response.json()["status"] == "active" and deal in self.signed:
            self.signed.remove(deal)
            self.active.append(deal)
            self.progress["active"] += 1

    async def create(self, call: Caller) -> None:
        pair = self.rng.choice(self.pairs)
        headers = {**pair.client.auth, "Idempotency-Key": f"load-{uuid.uuid4().hex}"}
        body = contract_draft(pair.contractor_id, title="Load test engagement")
        response = await call(
            "POST", CREATE, "/v1/contracts", expect=(201,), headers=headers, json=body
        )
        if response is not None:
            self.drafts.append(Deal(response.json()["id"], pair))
            self.progress["created"] += 1

    async def send(self, call: Caller) -> None:
        deal = self.drafts.popleft()
        url = f"/v1/contracts/{deal.id}/send"
        if await call("POST", SEND, url, expect=(200,), headers=deal.pair.client.auth):
            self.sent.append(deal)
            self.progress["sent"] += 1
        else:
            self.drafts.append(deal)

    def _restart(self, deal: Deal) -> None:
        """A signing step failed: the deal goes back to await its signer."""
        first = deal.signer is deal.pair.client
        deal.signer, deal.challenge_id, deal.code, deal.step_up_token = None, "", "", ""
        (self.sent if first else self.signing).append(deal)

    async def challenge(self, call: Caller) -> None:
        """A signer asks for a one-time code by email (issue 16)."""
        first = bool(self.sent) and (not self.signing or self.rng.random() < 0.5)
        deal = self.sent.popleft() if first else self.signing.popleft()
        deal.signer = deal.pair.client if first else deal.pair.contractor
        body = {"method": "email", "purpose": f"contract-sign:{deal.id}"}
        url = "/v1/auth/step-up/challenges"
        opened = await call(
            "POST", CHALLENGE, url, expect=(201,), headers=deal.signer.auth, json=body
        )
        if opened is None:
            self._restart(deal)
            return
        deal.challenge_id = opened.json()["challengeId"]
        self.challenged.append(deal)

    async def mailbox(self, call: Caller) -> None:
        """The signer reads the code: auth mailed it before it answered, so
        the newest code mailed for this contract is the challenge's (one
        signer steps up for a deal at a time)."""
        deal = self.challenged.popleft()
        assert deal.signer is not None
        params = {"to": deal.signer.email, "limit": 20}
        url = "/v1/notifications/dev/mailbox"
        found = await call("GET", MAILBOX, url, expect=(200,), params=params)
        codes = [
            m["data"]["code"]
            for m in (found.json()["items"] if found is not None else [])
            if m["template"] == "auth.step-up-code" and m["data"].get("reference") == deal.id
        ]
        if not codes:
            self.challenged.append(deal)
            return
        deal.code = codes[0]
        self.coded.append(deal)

    async def step_up(self, call: Caller) -> None:
        deal = self.coded.popleft()
        assert deal.signer is not None
        body = {"challengeId": deal.challenge_id, "code": deal.code}
        url = "/v1/auth/step-up"
        granted = await call(
            "POST", STEP_UP, url, expect=(200,), headers=deal.signer.auth, json=body
        )
        if granted is None:
            self._restart(deal)
            return
        deal.step_up_token = granted.json()["stepUpToken"]
        self.stepped_up.append(deal)

    async def sign(self, call: Caller) -> None:
        deal = self.stepped_up.popleft()
        signer = deal.signer
        assert signer is not None
        first = signer is deal.pair.client
        body = {
            "consent": True,
            "signatureName": signer.name,
            "stepUpToken": deal.step_up_token,
        }
        url = f"/v1/signatures/contracts/{deal.id}/sign"
        signed = await call("POST", SIGN, url, expect=(201,), headers=signer.auth, json=body)
        if not signed:
            self._restart(deal)
            return
        deal.signer, deal.challenge_id, deal.code, deal.step_up_token = None, "", "", ""
        if first:
            self.signing.append(deal)
        else:
            self.signed.append(deal)
            self.progress["signed"] += 1

    async def schedule(self, call: Caller) -> None:
        deal = self.rng.choice(self.active)
        url = f"/v1/payments/contracts/{deal.id}/schedule"
        response = await call("GET", SCHEDULE, url, expect=(200,), headers=deal.pair.client.auth)
        if response is None:
            return
        for found in response.json()["items"]:
            item_id, intent = found["itemId"], found.get("paymentIntentId")
            if intent and item_id not in self.seen_items:
                self.seen_items.add(item_id)
                self.unpaid.append(Item(deal, item_id, intent, found["escrowId"]))
            elif found["escrowState"] == "funded" and item_id in self.paid:
                self.funded.append(self.paid.pop(item_id))

    async def succeed(self, call: Caller) -> None:
        item = self.unpaid.popleft()
        url = f"/v1/payments/dev/intents/{item.intent_id}/succeed"
        if await call("POST", SUCCEED, url, expect=(202,), headers=item.deal.pair.client.auth):
            self.paid[item.item_id] = item
            self.progress["paid"] += 1
        else:
            self.unpaid.append(item)

    async def release(self, call: Caller) -> None:
        item = self.funded.popleft()
        headers = {**item.deal.pair.client.auth, "Idempotency-Key": f"load-{item.item_id}"}
        url = f"/v1/payments/escrow/{item.escrow_id}/release"
        if await call("POST", RELEASE, url, expect=(200,), headers=headers):
            self.progress["released"] += 1
        else:
            self.funded.append(item)
