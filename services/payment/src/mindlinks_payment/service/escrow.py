"""The parties' steps on a funded item: the contractor submits work (with
files uploaded straight to S3), the client approves it (a release) or asks
for changes, either party opens a dispute or settles by agreement (one
proposes a refund, the other accepts); and what the parties see of it.

Each step is one transaction: the item (its version read), the history step,
its timers and its event. No FastAPI here; routes commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from mindlinks_fleet.events import ChangesRequested, EscrowDisputed, WorkSubmitted
from mindlinks_kit import clock
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import Forbidden
from mindlinks_kit.runtime import Publish
from mindlinks_kit.timers import Timers
from mindlinks_payment.domain import (
    Caller,
    Dispute,
    Escrow,
    EscrowNotFound,
    HistoryStep,
    Proposal,
    Settlement,
    Side,
    Submission,
    SubmissionFile,
)
from mindlinks_payment.lifecycle import (
    LIVE,
    MAX_SUBMISSIONS,
    InvalidSplit,
    OwnProposal,
    PartiesOnly,
    ProposalMissing,
    SubmissionFileMissing,
    TooManySubmissions,
    advance,
    history_step,
    next_reminder,
    refuse_unless,
    review_due,
    step_of,
)
from mindlinks_payment.service.settlement import REVIEW_TIMERS, Settlements, settle_now


class Store(Protocol):
    async def escrow(self, escrow: str) -> Escrow | None: ...
    def advance_escrow(self, uow: UnitOfWork, before: Escrow, after: Escrow) -> None: ...
    def add_step(self, uow: UnitOfWork, step: HistoryStep) -> None: ...
    async def history_of(self, escrow_id: str) -> list[HistoryStep]: ...


class Bucket(Protocol):
    async def presigned_post(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...
    async def uploaded(self, key: str) -> tuple[str, int] | None: ...
    async def download_url(self, key: str, filename: str, expires_in: int) -> str: ...


class MovesNoMoney(Forbidden):
    code = "payments-move-required"
    title = "Your company role does not move the company's money"


@dataclass(frozen=True)
class Upload:
    file_id: str
    url: str
    fields: dict[str, str]
    expires_at: str


@dataclass(frozen=True)
class EscrowView:
    escrow: Escrow
    side: str
    history: list[HistoryStep]
    downloads: dict[str, str]
    """File id → a short-lived download URL."""


@dataclass(frozen=True)
class Policy:
    transfer_window_days: int = 90
    transfer_margin: timedelta = timedelta(days=2)
    upload_expiry: timedelta = timedelta(minutes=10)
    download_expiry: timedelta = timedelta(minutes=10)


def file_key(escrow_id: str, file_id: str) -> str:
    return f"escrow/{escrow_id}/{file_id}"


class EscrowSteps:
    def __init__(
        self,
        *,
        store: Store,
        settlements: Settlements,
        bucket: Bucket,
        timers: Timers,
        publish: Publish,
        policy: Policy,
    ) -> None:
        self.store = store
        self.settlements = settlements
        self.bucket = bucket
        self.timers = timers
        self.publish = publish
        self.policy = policy

    async def _find(self, caller: Caller, escrow_id: str) -> tuple[Escrow, Side]:
        escrow = await self.store.escrow(escrow_id)
        side = escrow.parties.side(caller) if escrow is not None else None
        if escrow is None or side is None:
            raise EscrowNotFound()
        return escrow, side

    async def _as_party(self, caller: Caller, escrow_id: str, *sides: Side) -> tuple[Escrow, Side]:
        """The item for one of its parties (``sides``) to act on: others' and
        unknown items are 404; a client member must move money; admins act
        through the admin service."""
        escrow, side = await self._find(caller, escrow_id)
        if side == "admin":
            raise PartiesOnly()
        if side not in sides:
            raise EscrowNotFound()
        if side == "client" and not caller.moves_money:
            raise MovesNoMoney()
        return escrow, side

    # -- reading --------------------------------------------------------------

    async def view(self, caller: Caller, escrow_id: str) -> EscrowView:
        escrow, side = await self._find(caller, escrow_id)
        expires = int(self.policy.download_expiry.total_seconds())
        downloads = {
            f.id: await self.bucket.download_url(f.key, f.name, expires)
            for s in escrow.submissions
            for f in s.files
        }
        return EscrowView(escrow, side, await self.store.history_of(escrow.id), downloads)

    # -- the contractor's work -----------------------------------------------

    async def upload(self, caller: Caller, escrow_id: str, content_type: str, size: int) -> Upload:
        """A presigned POST admitting exactly this file (type and size) for the
        item's next submission; nothing is stored until it is submitted."""
        escrow, _ = await self._as_party(caller, escrow_id, "contractor")
        refuse_unless(escrow, ("funded", "changes_requested"), "submit work on")
        file_id = uuid.uuid4().hex
        expiry = self.policy.upload_expiry
        url, fields = await self.bucket.presigned_post(
            file_key(escrow.id, file_id), content_type, size, int(expiry.total_seconds())
        )
        return Upload(file_id, url, fields, clock.iso(clock.now() + expiry))

    async def submit(
        self,
        caller: Caller,
        escrow_id: str,
        note: str,
        files: list[tuple[str, str]],
        uow: UnitOfWork,
    ) -> Escrow:
        """Submit work (note and uploaded files, as (file id, name)): the
        review period starts, with its reminders and its automatic release."""
        escrow, _ = await self._as_party(caller, escrow_id, "contractor")
        refuse_unless(escrow, ("funded", "changes_requested"), "submit work on")
        if len(escrow.submissions) >= MAX_SUBMISSIONS:
            raise TooManySubmissions()
        stored = []
        for file_id, name in files:
            key = file_key(escrow.id, file_id)
            found = await self.bucket.uploaded(key)
            if found is None:
                raise SubmissionFileMissing(f"No upload {file_id} for this item")
            stored.append(SubmissionFile(file_id, name, found[0], found[1], key))
        now = clock.now()
        due = review_due(escrow, now, self.policy.transfer_window_days, self.policy.transfer_margin)
        submission = Submission(
            no=len(escrow.submissions) + 1,
            note=note,
            submitted_by_user_id=caller.user_id,
            submitted_at=clock.iso(now),
            files=tuple(stored),
        )
        submitted = advance(
            escrow,
            clock.iso(now),
            state="submitted",
            submissions=(*escrow.submissions, submission),
            review_due_at=clock.iso(due),
        )
        self.store.advance_escrow(uow, escrow, submitted)
        self.store.add_step(
            uow,
            history_step(
                escrow,
                submitted,
                "submitted",
                by_user_id=caller.user_id,
                by_side="contractor",
                submission_no=submission.no,
            ),
        )
        self.timers.set(uow, "escrow.review-due", escrow.id, due)
        reminder = next_reminder(due, now)
        if reminder is not None:
            self.timers.set(uow, "escrow.review-reminder", escrow.id, reminder[0])
        else:
            self.timers.cancel(uow, "escrow.review-reminder", escrow.id)
        self.publish(
            uow,
            "payment.work-submitted",
            WorkSubmitted(
                **step_of(escrow).model_dump(),
                submission_no=submission.no,
                submitted_by_user_id=caller.user_id,
                file_count=len(stored),
                review_due_at=clock.iso(due),
            ),
        )
        return submitted

    # -- the client's answer ---------------------------------------------------

    async def request_changes(
        self, caller: Caller, escrow_id: str, reason: str, uow: UnitOfWork
    ) -> Escrow:
        escrow, _ = await self._as_party(caller, escrow_id, "client")
        refuse_unless(escrow, ("submitted",), "ask for changes to")
        last = escrow.submissions[-1]
        now = clock.now_iso()
        answered = (*escrow.submissions[:-1], replace(last, answer=reason))
        changes = advance(
            escrow, now, state="changes_requested", submissions=answered, review_due_at=None
        )
        self.store.advance_escrow(uow, escrow, changes)
        self.store.add_step(
            uow,
            history_step(
                escrow,
                changes,
                "changes-requested",
                by_user_id=caller.user_id,
                by_side="client",
                reason=reason,
                submission_no=last.no,
            ),
        )
        for name in REVIEW_TIMERS:
            self.timers.cancel(uow, name, escrow.id)
        self.publish(
            uow,
            "payment.changes-requested",
            ChangesRequested(
                **step_of(escrow).model_dump(),
                submission_no=last.no,
                requested_by_user_id=caller.user_id,
                reason=reason,
            ),
        )
        return changes

    async def approve(self, caller: Caller, escrow_id: str, claim: str, uow: UnitOfWork) -> Escrow:
        """Release the whole item to the contractor (submitted or not: the
        client may pay early). ``claim`` identifies this request, so that its
        retry completes what it claimed."""
        escrow, _ = await self._as_party(caller, escrow_id, "client")
        settlement = Settlement(
            released_minor=escrow.amount_minor,
            refunded_minor=0,
            reason="approved",
            claim=claim,
            claimed_at=clock.now_iso(),
            by_user_id=caller.user_id,
            by_side="client",
        )
        if escrow.state != "settling" or escrow.settlement is None:
            refuse_unless(escrow, LIVE, "release")
            # Fail before claiming when the money could not go anywhere yet.
            await self.settlements.destinations.ready_destination(escrow.parties.contractor_id)
        return await settle_now(self.settlements, escrow, settlement, LIVE, uow)

    # -- disputes and agreements ---------------------------------------------

    async def dispute(self, caller: Caller, escrow_id: str, reason: str, uow: UnitOfWork) -> Escrow:
        """Freeze the item until an admin resolves it: no approval, no
        automatic release, no agreement, no refund on termination."""
        escrow, side = await self._as_party(caller, escrow_id, "client", "contractor")
        refuse_unless(escrow, LIVE, "dispute")
        now = clock.now_iso()
        dispute = Dispute(caller.user_id, side, reason, now, escrow.state)
        disputed = advance(
            escrow, now, state="disputed", dispute=dispute, proposal=None, review_due_at=None
        )
        self.store.advance_escrow(uow, escrow, disputed)
        self.store.add_step(
            uow,
            history_step(
                escrow, disputed, "disputed", by_user_id=caller.user_id, by_side=side, reason=reason
            ),
        )
        for name in REVIEW_TIMERS:
            self.timers.cancel(uow, name, escrow.id)
        self.publish(
            uow,
            "payment.disputed",
            EscrowDisputed(
                **step_of(escrow).model_dump(),
                opened_by_user_id=caller.user_id,
                opened_by_side=side,
                reason=reason,
                frozen_state=escrow.state,
            ),
        )
        return disputed

    async def propose(
        self, caller: Caller, escrow_id: str, refund_minor: int, uow: UnitOfWork
    ) -> Escrow:
        """Offer to settle by agreement: ``refund_minor`` back to the client,
        the rest to the contractor (a new offer replaces the previous one)."""
        escrow, side = await self._as_party(caller, escrow_id, "client", "contractor")
        refuse_unless(escrow, LIVE, "propose an agreement on")
        if refund_minor > escrow.amount_minor:
            raise InvalidSplit(f"refundMinor must be at most {escrow.amount_minor}")
        now = clock.now_iso()
        proposal = Proposal(refund_minor, caller.user_id, side, now)
        proposed = advance(escrow, now, proposal=proposal)
        self.store.advance_escrow(uow, escrow, proposed)
        step = history_step(
            escrow, proposed, "agreement-proposed", by_user_id=caller.user_id, by_side=side
        )
        released = escrow.amount_minor - refund_minor
        self.store.add_step(
            uow, replace(step, released_minor=released, refunded_minor=refund_minor)
        )
        return proposed

    async def accept(
        self, caller: Caller, escrow_id: str, refund_minor: int, claim: str, uow: UnitOfWork
    ) -> Escrow:
        """Accept the other party's proposal of exactly ``refund_minor``: the
        item settles as agreed (a partial refund and a release)."""
        escrow, side = await self._as_party(caller, escrow_id, "client", "contractor")
        settling_for_us = escrow.state == "settling" and escrow.settlement is not None
        if not settling_for_us:
            refuse_unless(escrow, LIVE, "accept an agreement on")
            proposal = escrow.proposal
            if proposal is None or proposal.refund_minor != refund_minor:
                raise ProposalMissing()
            if proposal.proposed_by_side == side:
                raise OwnProposal()
            if refund_minor < escrow.amount_minor:
                await self.settlements.destinations.ready_destination(escrow.parties.contractor_id)
        settlement = Settlement(
            released_minor=escrow.amount_minor - refund_minor,
            refunded_minor=refund_minor,
            reason="agreed",
            claim=claim,
            claimed_at=clock.now_iso(),
            by_user_id=caller.user_id,
            by_side=side,
        )
        return await settle_now(self.settlements, escrow, settlement, LIVE, uow)
