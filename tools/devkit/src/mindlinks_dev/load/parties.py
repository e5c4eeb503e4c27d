"""The parties a load run needs, made the way the demo makes them (its
``Story``): a client with an active company, and a contractor invited by it,
KYC-verified through the local provider, with a payout account."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from mindlinks_dev.demo import Person, Story
from mindlinks_dev.load.mix import Pair


def make_pair(base_url: str) -> Pair:
    tag = uuid.uuid4().hex[:10]
    client = Person(f"load-owner-{tag}@acme.example", "Olivia Owner", "client")
    contractor = Person(f"load-dev-{tag}@contractor.example", "Dev Contractor", "contractor")
    with httpx.Client(base_url=base_url, timeout=30) as api:
        story = Story(api, lambda _: None)
        story.sign_up(client)
        story.register_company(client)
        contractor_id = story.onboard_contractor(client, contractor)
    return Pair(client, contractor, contractor_id)


def make_pairs(base_url: str, count: int, parallel: int = 4) -> list[Pair]:
    """``count`` pairs, ``parallel`` at a time (each waits on mail and events)."""
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda _: make_pair(base_url), range(count)))
