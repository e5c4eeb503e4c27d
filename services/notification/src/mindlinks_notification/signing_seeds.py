"""The signing deadline's templates (issue 16; seeded with ``seeds.SEEDS``): a
reminder to whoever must sign next, a moved deadline to them, and the expiry
to both parties. ``role`` is the recipient's side (``client`` or
``contractor``)."""

from __future__ import annotations

from mindlinks_notification.layout import button, layout
from mindlinks_notification.templates import TemplateSpec

_ASKED = (
    "{% if manual|default(false) %}Your {{ 'client' if role|default('') == 'contractor' "
    "else 'colleague' }} asks you to sign{% else %}A reminder: please sign{% endif %}"
)
"""Who asks, as the recipient says it (a client's reminder reaches the contractor,
or the member who sent the contract when their company has not signed yet)."""

SIGNING_REMINDER = TemplateSpec(
    name="contract.signing-reminder",
    description=(
        "contract.signing-reminder → to whoever must sign next: the deadline, "
        "on the cadence or at the client's request."
    ),
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "signingDeadline"),
    subject="Please sign “{{ title }}” by {{ signingDeadline }}",
    text=(
        "Hello {{ name }},\n\n" + _ASKED + " the contract “{{ title }}” by "
        "{{ signingDeadline }}. Unsigned then, it expires and can no longer be signed.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n<p>" + _ASKED + " the contract <strong>{{ title }}</strong> "
        "by <strong>{{ signingDeadline }}</strong>. Unsigned then, it expires and can no "
        "longer be signed.</p>\n" + button("contractUrl", "Review and sign")
    ),
)

DEADLINE_EXTENDED = TemplateSpec(
    name="contract.signing-deadline-extended",
    description=(
        "contract.signing-deadline-extended → to whoever must sign next: the new deadline."
    ),
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "signingDeadline", "previousDeadline"),
    subject="More time to sign “{{ title }}”: until {{ signingDeadline }}",
    text=(
        "Hello {{ name }},\n\n"
        "The deadline to sign the contract “{{ title }}” moved from {{ previousDeadline }} "
        "to {{ signingDeadline }}.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>The deadline to sign the contract <strong>{{ title }}</strong> moved from "
        "{{ previousDeadline }} to <strong>{{ signingDeadline }}</strong>.</p>\n"
        + button("contractUrl", "Review and sign")
    ),
)

_MISSING = (
    "{% if waitingFor|default('') == role|default('') %}your signature"
    "{% else %}your {{ waitingFor }}'s signature{% endif %}"
)
"""Whose signature was missing, as the recipient says it."""

EXPIRED = TemplateSpec(
    name="contract.expired",
    description="contract.expired → to both parties: the signing deadline passed unsigned.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "signingDeadline"),
    subject="“{{ title }}” expired unsigned",
    text=(
        "Hello {{ name }},\n\n"
        "The contract “{{ title }}” expired: its signing deadline, {{ signingDeadline }}, "
        "passed without " + _MISSING + ". It can no longer be signed"
        "{% if role|default('') == 'client' %}; draft it again to start over{% endif %}.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>The contract <strong>{{ title }}</strong> expired: its signing deadline, "
        "<strong>{{ signingDeadline }}</strong>, passed without " + _MISSING + ". It can no "
        "longer be signed"
        "{% if role|default('') == 'client' %}; draft it again to start over{% endif %}.</p>\n"
        + button("contractUrl", "View the contract")
    ),
)

SIGNING_SEEDS: tuple[TemplateSpec, ...] = (SIGNING_REMINDER, DEADLINE_EXTENDED, EXPIRED)
