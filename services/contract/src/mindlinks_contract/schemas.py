"""The contract service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from mindlinks_contract.domain import (
    Change,
    Contract,
    Template,
)
from mindlinks_contract.signing import (
    MAX_REMINDER_DAYS,
    MAX_SIGNING_DAYS,
    REMINDER_AFTER_DAYS,
    REMINDER_EVERY_DAYS,
    SIGNING_DAYS,
    Cadence,
)
from mindlinks_contract.terms import (
    MAX_NOTICE_DAYS,
    MAX_REVIEW_DAYS,
    NOTICE_DAYS,
    PLACEHOLDERS,
    REVIEW_DAYS,
    unknown_placeholders,
)
from mindlinks_fleet.internal.contract import ContractOut, HistoryEntry, Reason, TerminationOut
from mindlinks_fleet.money import CURRENCIES
from mindlinks_kit.schemas import MULTI_LINE, ONE_LINE, ApiModel, Id

_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_AMOUNT_MINOR = 10**13
"""An upper bound that no real contract reaches (guards the sums and the PDF)."""


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"not a supported ISO 4217 currency ({', '.join(sorted(CURRENCIES))})")
    return value


def _day(value: Any) -> Any:
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("not a date (YYYY-MM-DD)")
    return value


def _template_body(value: str) -> str:
    unknown = unknown_placeholders(value)
    if unknown:
        raise ValueError(
            f"unknown placeholders {unknown}; allowed: {', '.join(PLACEHOLDERS)}",
        )
    return value


Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_currency),
    WithJsonSchema({"type": "string", "enum": sorted(CURRENCIES)}),
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), MULTI_LINE
]
Day = Annotated[date, BeforeValidator(_day)]
"""A calendar date, ``YYYY-MM-DD`` only."""


def _whole(value: Any) -> Any:
    """A JSON number with no fractional part (``1500.0``) is an integer to
    JSON Schema, so the schema admits it; strings and booleans stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


AmountMinor = Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT_MINOR), BeforeValidator(_whole)]
ReviewDays = Annotated[int, Strict(), Field(ge=1, le=MAX_REVIEW_DAYS), BeforeValidator(_whole)]
NoticeDays = Annotated[int, Strict(), Field(ge=0, le=MAX_NOTICE_DAYS), BeforeValidator(_whole)]
SigningDays = Annotated[int, Strict(), Field(ge=1, le=MAX_SIGNING_DAYS), BeforeValidator(_whole)]
ReminderDays = Annotated[int, Strict(), Field(ge=1, le=MAX_REMINDER_DAYS), BeforeValidator(_whole)]


class FixedTerms(ApiModel):
    kind: Literal["fixed"]
    amount_minor: AmountMinor
    due_date: Day


class Milestone(ApiModel):
    title: Title
    amount_minor: AmountMinor
    due_date: Day


class MilestoneTerms(ApiModel):
    kind: Literal["milestones"]
    milestones: list[Milestone] = Field(min_length=1, max_length=50)


Terms = Annotated[FixedTerms | MilestoneTerms, Field(discriminator="kind")]


class ContractIn(ApiModel):
    contractor_id: Id
    title: Title
    description: Text
    currency: Currency
    start_date: Day
    end_date: Day | None = None
    """The last day of the work (optional): on or after the start and every due date."""
    template_id: Id | None = None
    terms: Terms
    review_days: ReviewDays = REVIEW_DAYS
    """Days the client has to answer submitted work before it releases on its own."""
    notice_days: NoticeDays = NOTICE_DAYS
    """Days of notice a termination gives; 0: either party may end it at once."""
    signing_days: SigningDays = SIGNING_DAYS
    """Days from sending to the signing deadline; unsigned then, it expires."""
    reminder_after_days: ReminderDays = REMINDER_AFTER_DAYS
    """Days after sending of the first reminder to whoever must sign next."""
    reminder_every_days: ReminderDays = REMINDER_EVERY_DAYS
    """Days between the reminders after the first (none at or after the deadline)."""

    def cadence(self) -> Cadence:
        return Cadence(self.signing_days, self.reminder_after_days, self.reminder_every_days)

    @model_validator(mode="after")
    def _dates_and_total(self) -> ContractIn:
        terms = self.terms
        dues = (
            [terms.due_date]
            if isinstance(terms, FixedTerms)
            else [m.due_date for m in terms.milestones]
        )
        if any(due < self.start_date for due in dues):
            raise ValueError("every due date must be on or after the start date")
        if self.end_date is not None and any(due > self.end_date for due in dues):
            raise ValueError("every due date must be on or before the end date")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("the end date must be on or after the start date")
        amounts = (
            [terms.amount_minor]
            if isinstance(terms, FixedTerms)
            else [m.amount_minor for m in terms.milestones]
        )
        if sum(amounts) > MAX_AMOUNT_MINOR:
            raise ValueError("the total is too large")
        return self

    def wire(self) -> dict[str, Any]:
        """The canonical JSON form (fingerprints, storage)."""
        return self.model_dump(mode="json", by_alias=True)


def history_entry(change: Change) -> HistoryEntry:
    return HistoryEntry.model_validate(
        {
            "from": change.from_status,
            "to": change.to_status,
            "at": change.at,
            "actorUserId": change.actor_user_id,
            "actorService": change.actor_service,
            "reason": change.reason,
        }
    )


def contract_out(contract: Contract) -> ContractOut:
    return ContractOut(
        id=contract.id,
        status=contract.status,
        version=contract.version,
        title=contract.title,
        description=contract.description,
        currency=contract.currency,
        start_date=contract.start_date,
        terms=contract.terms,
        total_minor=contract.total_minor,
        template_id=contract.template_id,
        client_company_id=contract.client_company_id,
        client_user_id=contract.client_user_id,
        client_name=contract.client_name,
        contractor_id=contract.contractor_id,
        contractor_user_id=contract.contractor_user_id,
        contractor_name=contract.contractor_name,
        pdf_sha256=contract.pdf_sha256,
        final_pdf_sha256=contract.final_pdf_sha256,
        activated_at=contract.activated_at,
        ledger_entry_id=contract.ledger_entry_id,
        completed_at=contract.completed_at,
        review_days=contract.review_days,
        notice_days=contract.notice_days,
        termination=(
            None
            if contract.termination is None
            else TerminationOut(
                reason=contract.termination.reason,
                by_user_id=contract.termination.by_user_id,
                by_side=contract.termination.by_side,
                requested_at=contract.termination.requested_at,
            )
        ),
        termination_ends_at=contract.termination_ends_at,
        terminated_at=contract.terminated_at,
        signing_days=contract.signing_days,
        reminder_after_days=contract.reminder_after_days,
        reminder_every_days=contract.reminder_every_days,
        sent_at=contract.sent_at,
        signing_deadline=contract.signing_deadline,
        next_reminder_at=contract.next_reminder_at,
        reminders_sent=contract.reminders_sent,
        last_reminder_at=contract.last_reminder_at,
        expired_at=contract.expired_at,
        end_date=contract.end_date,
        terms_version=contract.terms_version,
        open_amendment=contract.open_amendment,
        history=[history_entry(c) for c in contract.history],
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )


class DraftTermsIn(ApiModel):
    """A draft's escrow and signing terms, changed at the version last read."""

    version: Annotated[int, Strict(), Field(ge=1)]
    review_days: ReviewDays | None = None
    notice_days: NoticeDays | None = None
    signing_days: SigningDays | None = None
    reminder_after_days: ReminderDays | None = None
    reminder_every_days: ReminderDays | None = None

    @model_validator(mode="after")
    def _something(self) -> DraftTermsIn:
        given = (
            self.review_days,
            self.notice_days,
            self.signing_days,
            self.reminder_after_days,
            self.reminder_every_days,
        )
        if all(value is None for value in given):
            raise ValueError(
                "give one or more of reviewDays, noticeDays, signingDays, "
                "reminderAfterDays, reminderEveryDays"
            )
        return self


class SigningDeadlineIn(ApiModel):
    """A later signing deadline."""

    signing_deadline: AwareDatetime
    """Later than the current deadline, in the future, at most 90 days from now."""


class ReminderOut(ApiModel):
    """A reminder sent to whoever must sign next."""

    contract_id: str
    reminder_no: int
    to_side: Literal["client", "contractor"]
    to_user_id: str
    signing_deadline: str
    manual: bool
    sent_at: str


class VoidIn(ApiModel):
    reason: Reason


class TerminationIn(ApiModel):
    reason: Reason
    at_once: Annotated[bool, Strict()] = False
    """End it now whatever notice the contract gives (also cuts a running notice short)."""


class DocumentLink(ApiModel):
    url: str
    expires_at: str
    sha256: str
    kind: Literal["original", "final"]


class TemplateIn(ApiModel):
    name: Title
    body: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
        AfterValidator(_template_body),
        MULTI_LINE,
    ]


class TemplateOut(ApiModel):
    id: str
    company_id: str
    name: str
    body: str
    placeholders: list[str]
    created_at: str

    @classmethod
    def of(cls, template: Template) -> TemplateOut:
        return cls(
            id=template.id,
            company_id=template.company_id,
            name=template.name,
            body=template.body,
            placeholders=list(PLACEHOLDERS),
            created_at=template.created_at,
        )
