"""Deliveries a fleet must shrug off: published events delivered again
(twice, shuffled: duplicates and out of order), and Stripe and KYC webhooks
delivered twice, late and wrongly signed. Written straight into the embedded
AWS and through the edge, as the outside world would."""

from __future__ import annotations

import json
import random
import time

import httpx

from mindlinks_dev.chaos.fleet import Endpoints
from mindlinks_dev.chaos.tables import aws, scan
from mindlinks_fleet import FLEET
from mindlinks_kyc.providers.local import WEBHOOK_PATH as KYC_WEBHOOK
from mindlinks_kyc.providers.local import LocalKycProvider
from mindlinks_kyc.settings import LOCAL_WEBHOOK_SECRET as KYC_SECRET
from mindlinks_payment.providers.local import WEBHOOK_PATH as STRIPE_WEBHOOK
from mindlinks_payment.providers.local import sign, stripe_event
from mindlinks_payment.settings import LOCAL_WEBHOOK_SECRET as STRIPE_SECRET


class Replays:
    def __init__(self, fleet: Endpoints, rng: random.Random) -> None:
        self.fleet = fleet
        self.rng = rng

    def redeliver_events(self) -> str:
        """Published events delivered again, twice each, in a shuffled order."""
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

    def webhooks(self, refused: list[str]) -> str:
        """Stripe and KYC webhooks twice, late, and wrongly signed; what
        should have been refused and was not goes into ``refused``."""
        with httpx.Client(base_url=self.fleet.edge_url, timeout=30) as edge:
            stripe = self._stripe(edge, refused)
            kyc = self._kyc(edge, refused)
        return f"{stripe}; {kyc}"

    def _stripe(self, edge: httpx.Client, refused: list[str]) -> str:
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
        _must_refuse("Stripe", late, forged, refused)
        return (
            f"payment_intent.succeeded for {intent['id']} twice ({twice}), "
            f"an hour late ({late}), wrongly signed ({forged})"
        )

    def _kyc(self, edge: httpx.Client, refused: list[str]) -> str:
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
        forged = post(*decision(None, secret=KYC_SECRET[::-1]))  # a forgery: not the secret
        _must_refuse("KYC", late, forged, refused)
        return (
            f"KYC decision for session {session['id']} twice ({twice}), "
            f"years late ({late}), wrongly signed ({forged})"
        )


def _must_refuse(provider: str, late: int, forged: int, refused: list[str]) -> None:
    """A stale or forged webhook gets a 4xx; anything else goes into ``refused``."""
    for what, status in (("stale", late), ("wrongly signed", forged)):
        if not 400 <= status < 500:
            refused.append(f"a {what} {provider} webhook answered {status}")
