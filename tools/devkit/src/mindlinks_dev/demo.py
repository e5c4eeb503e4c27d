"""``make demo``: the whole Mind-Links story against a running fleet, only
through the public edge, as the dashboards would drive it.

A client registers and verifies, registers its company, invites a contractor
(the token read from the local mailbox); the contractor registers, accepts and
passes KYC; a contract is created, sent and signed by both (each confirms a
mailed one-time code first, read from the local mailbox); the contract
becomes active and its payment schedule exists because the events flowed; a
payment is confirmed by a signed webhook; the contractor submits the work, the
client asks for changes, the contractor submits again and the client approves,
which releases the escrow (issue 15's first story).

The end-to-end suite runs this same story (``tests/e2e``).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mindlinks_dev.local_companies import local_company
from mindlinks_fleet.step_up import AMENDMENT_SIGN, CONTRACT_SIGN, amendment_subject, purpose

PASSWORD = "a long and unusual passphrase 42"  # noqa: S105 - throwaway demo accounts
Say = Callable[[str], None]
STEP_UP_CODE = "auth.step-up-code"
STEP_UP_TRIES = 3
"""Step-ups a signer attempts before the story fails (retries can spend one)."""
RESEND_AFTER = 30.0
"""Seconds a person waits for a verification mail before asking again."""


class StoryFailed(AssertionError):
    pass


def expect(response: httpx.Response, *statuses: int, replayed: frozenset[str] = frozenset()) -> Any:
    """The JSON of an answer with one of ``statuses``; ``None`` for a 409
    whose code is in ``replayed``: the step was already done (a retried
    request whose first answer was lost, as a dashboard's retry meets it)."""
    if response.status_code == 409 and replayed and _code(response) in replayed:
        return None
    if response.status_code not in statuses:
        raise StoryFailed(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json() if response.content else None


def _code(response: httpx.Response) -> str | None:
    try:
        code = response.json().get("code")
    except ValueError:
        return None
    return code if isinstance(code, str) else None


def until(probe: Callable[[], Any], what: str, seconds: float = 60.0, every: float = 0.25) -> Any:
    """Poll until ``probe`` returns something truthy: events flow asynchronously."""
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise StoryFailed(f"timed out waiting for {what}")
        time.sleep(every)


@dataclass
class Person:
    email: str
    name: str
    role: str
    token: str = ""
    user_id: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


def contract_draft(contractor_id: str, title: str = "Widget platform build") -> dict[str, Any]:
    """The body of ``POST /v1/contracts``: two milestones, 5,000.00 EUR."""
    return {
        "contractorId": contractor_id,
        "title": title,
        "description": "Design and build the widget ordering platform.",
        "currency": "EUR",
        "startDate": "2027-01-04",
        "terms": {
            "kind": "milestones",
            "milestones": [
                {"title": "Design", "amountMinor": 150000, "dueDate": "2027-02-01"},
                {"title": "Build", "amountMinor": 350000, "dueDate": "2027-04-01"},
            ],
        },
    }


@dataclass
class Story:
    api: httpx.Client
    say: Say
    facts: dict[str, Any] = field(default_factory=dict)
    patience: float = 60.0
    """How long to wait for what events bring (a mail, a status)."""
    poll: float = 0.25

    marks: dict[str, float] = field(default_factory=dict)
    """``time.monotonic()`` at the story's milestones: ``signed`` (the last
    signature answered) and ``active`` (the contract was seen active)."""
    on_mark: Callable[[str], None] = lambda name: None
    """Called at each milestone as it is reached (a load test splits its
    measurements there)."""

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic()
        self.on_mark(name)

    def until(self, probe: Callable[[], Any], what: str) -> Any:
        return until(probe, what, self.patience, self.poll)

    def mail(
        self, to: str, template: str, resend: Callable[[], object] | None = None
    ) -> dict[str, Any]:
        """The first ``template`` mail to ``to``; ``resend`` is what a person
        does when it is slow to come (ask for it again), every ``RESEND_AFTER``."""
        asked = time.monotonic()

        def probe() -> dict[str, Any] | None:
            nonlocal asked
            found = self.api.get("/v1/notifications/dev/mailbox", params={"to": to})
            items = expect(found, 200)["items"]
            mail = next((m for m in items if m["template"] == template), None)
            if mail is None and resend is not None and time.monotonic() - asked > RESEND_AFTER:
                resend()
                asked = time.monotonic()
            return mail

        mail: dict[str, Any] = self.until(probe, f"the {template} mail to {to}")
        return mail

    def step_up(self, person: Person, contract_id: str, amendment: int | None = None) -> str:
        """What a signer does before signing (issue 16): ask for a one-time
        code by email, read it from the local mailbox, confirm it; the
        step-up token for signing ``contract_id`` (or its ``amendment``).
        Auth mails the code before it answers, so the first read finds it.

        As a dashboard's retries meet it (``make chaos``): a retried challenge
        may have mailed a code for a challenge whose answer was lost, so the
        unseen codes are tried newest first; a confirmation whose first answer
        was lost finds its challenge spent (404), and the signer asks again."""
        if amendment is None:
            subject, kind = contract_id, CONTRACT_SIGN
        else:
            subject, kind = amendment_subject(contract_id, amendment), AMENDMENT_SIGN
        seen = {m["id"] for m in self._step_up_mails(person, subject)}
        for _ in range(STEP_UP_TRIES):
            challenge = expect(
                self.api.post(
                    "/v1/auth/step-up/challenges",
                    headers=person.auth,
                    json={"method": "email", "purpose": purpose(kind, subject)},
                ),
                201,
            )

            def fresh() -> list[dict[str, Any]]:
                return [m for m in self._step_up_mails(person, subject) if m["id"] not in seen]

            mails: list[dict[str, Any]] = self.until(
                fresh, f"the step-up code mailed to {person.email}"
            )
            for mail in mails:
                seen.add(mail["id"])
                answer = self.api.post(
                    "/v1/auth/step-up",
                    headers=person.auth,
                    json={"challengeId": challenge["challengeId"], "code": mail["data"]["code"]},
                )
                if answer.status_code == 200:
                    token: str = answer.json()["stepUpToken"]
                    return token
                if _code(answer) != "step-up-code-invalid":
                    break  # spent or gone: ask for a new code
        raise StoryFailed(f"{person.email} could not step up for {subject}")

    def _step_up_mails(self, person: Person, subject: str) -> list[dict[str, Any]]:
        """The step-up codes mailed to ``person`` for ``subject``, newest first."""
        found = self.api.get("/v1/notifications/dev/mailbox", params={"to": person.email})
        return [
            m
            for m in expect(found, 200)["items"]
            if m["template"] == STEP_UP_CODE and m["data"].get("reference") == subject
        ]

    def sign(
        self,
        person: Person,
        contract_id: str,
        key: str | None = None,
        amendment: int | None = None,
    ) -> dict[str, Any]:
        """``person`` signs ``contract_id`` (or its ``amendment``) after stepping
        up with a mailed code (again when the token expired while a retried
        request waited)."""
        headers = {**person.auth, **({"Idempotency-Key": key} if key else {})}
        path = f"/v1/signatures/contracts/{contract_id}"
        path += "/sign" if amendment is None else f"/amendments/{amendment}/sign"
        for _ in range(STEP_UP_TRIES):
            response = self.api.post(
                path,
                headers=headers,
                json={
                    "consent": True,
                    "signatureName": person.name,
                    "stepUpToken": self.step_up(person, contract_id, amendment),
                },
            )
            if response.status_code != 403 or _code(response) != "step-up-required":
                break
        signed: dict[str, Any] = expect(response, 201)
        return signed

    def sign_up(self, person: Person) -> None:
        expect(
            self.api.post(
                "/v1/auth/register",
                json={
                    "email": person.email,
                    "password": PASSWORD,
                    "name": person.name,
                    "role": person.role,
                },
            ),
            202,
        )
        token = self.mail(
            person.email,
            "auth.verify-email",
            resend=lambda: self.api.post(
                "/v1/auth/verify-email/resend", json={"email": person.email}
            ),
        )["data"]["token"]
        expect(self.api.post("/v1/auth/verify-email", json={"token": token}), 200)
        login = self.api.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})
        person.token = expect(login, 200)["accessToken"]
        # Registration names no id (a taken address is answered alike).
        person.user_id = expect(self.api.get("/v1/auth/me", headers=person.auth), 200)["id"]
        self.say(f"{person.role} {person.email} registered, verified the email and logged in")

    def register_company(self, owner: Person) -> dict[str, Any]:
        """The owner's company, on a fresh gb/ML number: the local registry's,
        one active company each."""
        local = local_company()
        company: dict[str, Any] | None = expect(
            self.api.post(
                "/v1/clients/register",
                headers=owner.auth,
                json={
                    "legalName": local.legal_name,
                    "jurisdictionCode": local.jurisdiction_code,
                    "companyNumber": local.company_number,
                    "address": {
                        "line1": "1 Widget Street",
                        "city": "London",
                        "postalCode": "EC1A 1AA",
                        "country": "GB",
                    },
                },
            ),
            201,
            replayed=frozenset({"company-already-registered"}),
        )
        if company is None:
            company = expect(self.api.get("/v1/clients/me", headers=owner.auth), 200)
        assert company is not None
        return company

    def onboard_contractor(self, client: Person, contractor: Person) -> str:
        """Invite ``contractor`` (not yet registered) to the client's company; the
        contractor signs up, accepts, passes the local KYC and opens a payout
        account. Returns the contractor id."""
        expect(
            self.api.post(
                "/v1/clients/invite-contractor",
                headers=client.auth,
                json={"email": contractor.email, "name": contractor.name},
            ),
            201,
            replayed=frozenset({"invitation-pending"}),
        )
        invitation = self.mail(contractor.email, "client.invitation")["data"]["token"]
        self.say(f"contractor invited; the invitation mail reached {contractor.email}")

        self.sign_up(contractor)
        accepted = expect(
            self.api.post(
                "/v1/contractors/accept-invitation",
                headers=contractor.auth,
                json={"token": invitation},
            ),
            200,
            201,
            replayed=frozenset({"invitation-used", "invitation-already-accepted"}),
        )
        if accepted is None:
            accepted = expect(self.api.get("/v1/contractors/me", headers=contractor.auth), 200)
        contractor_id = accepted.get("contractorId") or accepted["id"]
        self.say(f"contractor accepted the invitation (contractor {contractor_id})")

        session = expect(
            self.api.post(
                "/v1/kyc/sessions",
                headers={**contractor.auth, "Idempotency-Key": f"kyc-{contractor.email}"},
            ),
            201,
        )
        expect(
            self.api.post(
                f"/v1/kyc/dev/sessions/{session['id']}/decide",
                headers=contractor.auth,
                json={"decision": "approved"},
            ),
            202,
            replayed=frozenset({"session-closed"}),
        )
        self.until(
            lambda: (
                expect(self.api.get("/v1/contractors/me", headers=contractor.auth), 200)[
                    "kycStatus"
                ]
                == "verified"
            ),
            "the contractor's KYC to be verified",
        )
        self.say("KYC approved by the provider's signed webhook; the contractor is verified")

        payout = expect(
            self.api.post("/v1/payments/payout-account", headers=contractor.auth), 201, 200
        )
        # Stripe's hosted onboarding, played by the local provider: follow the link.
        onboarding = httpx.URL(payout["onboardingUrl"])
        expect(self.api.get(onboarding.path, params=onboarding.params), 200, 303)
        self.say(f"payout account {payout['accountId']} opened and onboarded")
        return str(contractor_id)

    def activate(
        self, client: Person, contractor: Person, draft: dict[str, Any], key: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Draft, send and sign ``draft`` (client first), wait for the events
        to make it active and open its payment schedule: (contract id, items)."""
        contract = expect(
            self.api.post(
                "/v1/contracts",
                headers={**client.auth, "Idempotency-Key": f"{key}-contract"},
                json=draft,
            ),
            201,
        )
        contract_id: str = contract["id"]
        self.say(f"contract {contract_id} drafted with its PDF ({contract['status']})")
        expect(
            self.api.post(f"/v1/contracts/{contract_id}/send", headers=client.auth),
            200,
            replayed=frozenset({"invalid-transition"}),
        )
        for signer in (client, contractor):
            self.sign(signer, contract_id, key=f"{key}-{signer.role}")
            self.say(f"{signer.role} confirmed a mailed one-time code and signed")
        self.mark("signed")

        def contract_status() -> str:
            found = self.api.get(f"/v1/contracts/{contract_id}", headers=client.auth)
            status: str = expect(found, 200)["status"]
            return status

        self.until(lambda: contract_status() == "active", "the contract to become active")
        self.mark("active")
        self.say("the ledger recorded the activation; the contract is active")

        def opened() -> list[dict[str, Any]]:
            items = self.schedule(contract_id, client)
            return items if items and all(i.get("paymentIntentId") for i in items) else []

        items: list[dict[str, Any]] = self.until(opened, "the payment schedule")
        self.say(f"payment schedule: {len(items)} escrowed items")
        return contract_id, items

    def schedule(self, contract_id: str, person: Person) -> list[dict[str, Any]]:
        found = self.api.get(f"/v1/payments/contracts/{contract_id}/schedule", headers=person.auth)
        items: list[dict[str, Any]] = expect(found, 200)["items"]
        return items

    def item(self, contract_id: str, person: Person, item_id: str) -> dict[str, Any]:
        """One schedule item as ``person`` sees it now."""
        return next(i for i in self.schedule(contract_id, person) if i["itemId"] == item_id)

    def fund(self, contract_id: str, client: Person, item: dict[str, Any]) -> None:
        """The card holder pays ``item`` (the local Stripe plays the card and
        sends its signed webhook); waits until the escrow is funded."""
        expect(
            self.api.post(
                f"/v1/payments/dev/intents/{item['paymentIntentId']}/succeed", headers=client.auth
            ),
            202,
            replayed=frozenset({"intent-already-succeeded"}),
        )
        self.until(
            lambda: self.item(contract_id, client, item["itemId"])["escrowState"] == "funded",
            f"item {item['itemId']} to be funded",
        )
        self.say("payment confirmed by Stripe's signed webhook; escrow funded")

    def escrow(self, escrow_id: str, person: Person) -> dict[str, Any]:
        """The escrowed item with its submissions and history, as ``person`` sees it."""
        found: dict[str, Any] = expect(
            self.api.get(f"/v1/payments/escrow/{escrow_id}", headers=person.auth), 200
        )
        return found

    def submit(self, contractor: Person, escrow_id: str, note: str, file: bytes | None) -> None:
        """The contractor submits work: ``file`` uploaded first, straight to
        storage with the presigned POST the service hands out."""
        files = []
        if file is not None:
            upload = expect(
                self.api.post(
                    f"/v1/payments/escrow/{escrow_id}/uploads",
                    headers=contractor.auth,
                    json={"contentType": "text/plain", "size": len(file)},
                ),
                201,
            )
            posted = httpx.post(
                upload["upload"]["url"],
                data=upload["upload"]["fields"],
                files={"file": ("delivery.txt", file, "text/plain")},
                timeout=30,
            )
            if posted.status_code not in (200, 201, 204):
                raise StoryFailed(f"the upload answered {posted.status_code}: {posted.text[:300]}")
            files.append({"fileId": upload["fileId"], "name": "delivery.txt"})
        expect(
            self.api.post(
                f"/v1/payments/escrow/{escrow_id}/submissions",
                headers=contractor.auth,
                json={"note": note, "files": files},
            ),
            201,
        )

    def review(self, client: Person, contractor: Person, item: dict[str, Any], key: str) -> Any:
        """Issue 15's first story on a funded item: the contractor submits
        work, the client asks for changes, the contractor submits again, the
        client approves and the item is released."""
        escrow_id = item["escrowId"]
        self.submit(contractor, escrow_id, "First cut of the designs.", b"wireframes v1\n")
        self.say("the contractor submitted the work; the client's review period started")
        expect(
            self.api.post(
                f"/v1/payments/escrow/{escrow_id}/changes-requests",
                headers=client.auth,
                json={"reason": "Please add the mobile layouts."},
            ),
            200,
        )
        self.say("the client asked for changes")
        self.submit(contractor, escrow_id, "Mobile layouts added.", b"wireframes v2\n")
        self.say("the contractor submitted again")
        approved = expect(
            self.api.post(
                f"/v1/payments/escrow/{escrow_id}/approve",
                headers={**client.auth, "Idempotency-Key": f"{key}-approve"},
            ),
            200,
        )
        self.say(f"the client approved: the item is {approved['state']}")
        return approved

    def run(self, review: bool = False) -> dict[str, Any]:
        """The whole story; ``review``: the first item is submitted, sent back
        for changes, submitted again and approved (``make demo``), else the
        client releases it at once (the load test's lifecycle, as measured)."""
        run_id = uuid.uuid4().hex[:8]
        client = Person(f"owner-{run_id}@acme.example", "Olivia Owner", "client")
        contractor = Person(f"dev-{run_id}@contractor.example", "Dev Contractor", "contractor")
        self.sign_up(client)

        company = self.register_company(client)
        self.say(f"company {company['legalName']} registered: {company['status']}")
        if company["status"] != "active":
            raise StoryFailed(f"company is {company['status']}, not active")

        contractor_id = self.onboard_contractor(client, contractor)
        contract_id, items = self.activate(
            client, contractor, contract_draft(contractor_id), f"demo-{run_id}"
        )
        first = items[0]
        self.fund(contract_id, client, first)
        if review:
            released = self.review(client, contractor, first, f"demo-{run_id}")
        else:
            released = expect(
                self.api.post(
                    f"/v1/payments/escrow/{first['escrowId']}/release",
                    headers={**client.auth, "Idempotency-Key": f"demo-{run_id}-release"},
                ),
                200,
            )
            self.say(f"escrow released to the contractor: {released.get('state', released)}")

        history = expect(
            self.api.get(f"/v1/ledger/contracts/{contract_id}/history", headers=client.auth), 200
        )
        entries = history["items"] if isinstance(history, dict) else history
        self.say(f"ledger: {len(entries)} entries for the contract")
        self.facts = {
            "contractId": contract_id,
            "contractorId": contractor_id,
            "client": client,
            "contractor": contractor,
            "schedule": items,
            "released": released,
            "ledgerEntries": entries,
            "activationSeconds": self.marks["active"] - self.marks["signed"],
        }
        return self.facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://localhost:8080")
    args = parser.parse_args(argv)
    step = 0

    def say(message: str) -> None:
        nonlocal step
        step += 1
        print(f"{step:2d}. {message}", flush=True)

    with httpx.Client(base_url=args.base_url, timeout=30) as api:
        try:
            facts = Story(api, say).run(review=True)
        except (StoryFailed, httpx.HTTPError) as exc:
            print(f"demo failed: {exc}", file=sys.stderr)
            return 1
    print(
        f"\ncontract {facts['contractId']} is active; the first milestone was submitted, "
        "sent back for changes, submitted again, approved and released."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
