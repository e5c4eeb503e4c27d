"""The admin API's bodies. Peers' records are passed through as objects
(``Record``); what the admin service adds — ``partial``, the fleet, the audit
trail — is typed here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema, model_validator

from mindlinks_admin.domain import (
    CompanyView,
    ContractorView,
    ContractView,
    EscrowView,
    FleetView,
    Probe,
    QueueRow,
    UserView,
)
from mindlinks_admin.peers import Missing
from mindlinks_fleet import FLEET
from mindlinks_kit.schemas import CURSOR_PATTERN, MULTI_LINE, ApiModel

Record = dict[str, Any]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500), MULTI_LINE
]
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
QUEUE_NAMES = sorted(s.name for s in FLEET.services if s.queue)
ServiceName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$"),
    WithJsonSchema({"type": "string", "enum": QUEUE_NAMES}),
]
"""A consuming service: the schema names them (``make fuzz`` found any
pattern-shaped name schema-valid and refused ``unknown-queue``)."""
UNIQUE = Field(json_schema_extra={"uniqueItems": True})
"""What the validators' "messageIds repeat" says, in the schema (``make fuzz``
found repeated ids schema-valid and refused)."""
Phase = Literal["requested", "succeeded", "failed", "viewed"]


# requests -----------------------------------------------------------------------


class ReasonIn(ApiModel):
    reason: Reason


class OptionalReasonIn(ApiModel):
    reason: Reason | None = None


class BackfillIn(ApiModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)] | None = None
    """The ``nextCursor`` of the previous call: refused before anything is audited
    when it cannot be one."""


class ReplayIn(ApiModel):
    service: ServiceName
    message_ids: Annotated[list[MessageId], Field(max_length=100), UNIQUE] = []
    all: bool = False
    reason: Reason | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ReplayIn:
        if bool(self.message_ids) == self.all:
            raise ValueError("give either messageIds or all: true")
        if len(set(self.message_ids)) != len(self.message_ids):
            raise ValueError("messageIds repeat")
        return self


class DiscardIn(ApiModel):
    service: ServiceName
    message_ids: Annotated[list[MessageId], Field(min_length=1, max_length=100), UNIQUE]
    reason: Reason

    @model_validator(mode="after")
    def _distinct(self) -> DiscardIn:
        if len(set(self.message_ids)) != len(self.message_ids):
            raise ValueError("messageIds repeat")
        return self


# answers ------------------------------------------------------------------------


class PartialOut(ApiModel):
    """A source the answer lacks, and why."""

    service: str
    detail: str


def _partial(missing: list[Missing]) -> list[PartialOut]:
    return [PartialOut(service=m.service, detail=m.detail) for m in missing]


class UserOut(ApiModel):
    account: Record | None
    profile: Record | None
    company: Record | None
    contractor: Record | None
    kyc: list[Record] | None
    """The contractor's KYC sessions, newest first."""
    contracts: list[Record] | None
    """The company's or the contractor's newest contracts."""
    partial: list[PartialOut]

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        return cls(
            account=view.account,
            profile=view.profile,
            company=view.company,
            contractor=view.contractor,
            kyc=view.kyc,
            contracts=view.contracts,
            partial=_partial(view.partial),
        )


class CompanyOut(ApiModel):
    company: Record
    owner: Record | None
    partial: list[PartialOut]

    @classmethod
    def of(cls, view: CompanyView) -> CompanyOut:
        return cls(company=view.company, owner=view.owner, partial=_partial(view.partial))


class ContractorOut(ApiModel):
    contractor: Record
    account: Record | None
    kyc: list[Record] | None
    partial: list[PartialOut]

    @classmethod
    def of(cls, view: ContractorView) -> ContractorOut:
        return cls(
            contractor=view.contractor,
            account=view.account,
            kyc=view.kyc,
            partial=_partial(view.partial),
        )


class ContractOut(ApiModel):
    contract: Record
    signatures: list[Record] | None
    history: list[Record] | None
    """The contract's ledger entries, oldest first."""
    partial: list[PartialOut]

    @classmethod
    def of(cls, view: ContractView) -> ContractOut:
        return cls(
            contract=view.contract,
            signatures=view.signatures,
            history=view.history,
            partial=_partial(view.partial),
        )


class EscrowItemOut(ApiModel):
    escrow: Record
    """The item as payment holds it: state, amounts, parties and ``history``
    (each step: ``at``, ``action``, ``fromState``, ``toState``, ``byUserId``,
    ``bySide``, ``reason``, ``releasedMinor``, ``refundedMinor``, ``submissionNo``)."""
    journal: list[Record] | None
    """The item's ledger entries, oldest first."""
    partial: list[PartialOut]

    @classmethod
    def of(cls, view: EscrowView) -> EscrowItemOut:
        return cls(escrow=view.escrow, journal=view.journal, partial=_partial(view.partial))


class ResolutionIn(ApiModel):
    """All to the contractor (``release``), all back to the client
    (``refund``), or ``split``: ``releasedMinor`` to the contractor, the rest
    refunded (minor units, more than 0 and less than the item's amount)."""

    outcome: Literal["release", "refund", "split"]
    released_minor: int | None = Field(default=None, gt=0, le=2**53 - 1)
    note: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000), MULTI_LINE
    ]
    """Why: kept in the audit and in the item's history."""


class QueueOut(ApiModel):
    service: str
    depth: int | None
    in_flight: int | None
    dead_letters: int | None

    @classmethod
    def of(cls, row: QueueRow) -> QueueOut:
        return cls.model_validate(row, from_attributes=True)


class QueuesOut(ApiModel):
    items: list[QueueOut]
    partial: list[PartialOut]


class DeadLettersOut(ApiModel):
    service: str
    items: list[Record]


class ServiceHealth(ApiModel):
    service: str
    live: bool
    ready: bool
    version: str | None
    latency_ms: float | None
    """The ``/health/live`` round trip."""
    breakers: dict[str, str] | None
    outbox_backlog: int | None
    queue: Record | None
    revoked_subjects: int | None
    error: str | None
    """Why it is not live: ``timeout``, ``unavailable``, ``circuit-open`` or ``refused``."""
    details: list[str]

    @classmethod
    def of(cls, probe: Probe) -> ServiceHealth:
        return cls.model_validate(probe, from_attributes=True)


class FleetOut(ApiModel):
    services: list[ServiceHealth]
    checked_at: str
    deadline_seconds: float
    partial: list[PartialOut]

    @classmethod
    def of(cls, view: FleetView, deadline: float) -> FleetOut:
        return cls(
            services=[ServiceHealth.of(p) for p in view.services],
            checked_at=view.checked_at,
            deadline_seconds=deadline,
            partial=_partial(view.partial),
        )


class AuditRecordOut(ApiModel):
    id: str
    action_id: str
    day: str
    at: str
    actor_user_id: str
    action: str
    target: str
    phase: Phase
    reason: str | None = None
    before: Any = None
    after: Any = None
    error: Any = None
    correlation_id: str | None = None

    @classmethod
    def of(cls, item: Record) -> AuditRecordOut:
        return cls.model_validate(item)
