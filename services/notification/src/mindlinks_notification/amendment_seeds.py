"""An amendment's templates (issue 16, ADR 0017; seeded with ``seeds.SEEDS``):
the proposal and the client's signature to the contractor (the client signs
first, the contractor last), a decline to the other party, a withdrawal to
the contractor, and the amendment in force to both. ``role`` is the
recipient's side (``client`` or ``contractor``)."""

from __future__ import annotations

from mindlinks_notification.layout import button, layout
from mindlinks_notification.templates import TemplateSpec

_STAY = "Until both parties have signed it, the contract's current terms stay in force."
_STAYED = "The contract's current terms stay in force."

AMENDMENT_PROPOSED = TemplateSpec(
    name="contract.amendment-proposed",
    description=(
        "contract.amendment-proposed → to the contractor: the client proposed new terms "
        "(why, the new total); the client signs first, then the contractor is asked."
    ),
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "number", "reason", "total", "previousTotal"),
    subject="Your client proposes amendment {{ number }} of “{{ title }}”",
    text=(
        "Hello {{ name }},\n\n"
        "Your client proposed amendment {{ number }} of the contract “{{ title }}”.\n\n"
        "Reason: {{ reason }}\n\n"
        "The contract's total would be {{ total }} (now {{ previousTotal }}). Your client "
        "signs it first; then you will be asked to sign it. " + _STAY + "\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your client proposed amendment {{ number }} of the contract "
        "<strong>{{ title }}</strong>.</p>\n"
        "<p>Reason: {{ reason }}</p>\n"
        "<p>The contract's total would be <strong>{{ total }}</strong> (now "
        "{{ previousTotal }}). Your client signs it first; then you will be asked to sign "
        "it. " + _STAY + "</p>\n" + button("contractUrl", "Review the amendment")
    ),
)

AMENDMENT_CLIENT_SIGNED = TemplateSpec(
    name="contract.amendment-client-signed",
    description=(
        "signature.amendment-client-signed → to the contractor: the client signed the "
        "amendment, your turn."
    ),
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "number"),
    subject="Your client signed amendment {{ number }} of “{{ title }}”: your turn",
    text=(
        "Hello {{ name }},\n\n"
        "Your client signed amendment {{ number }} of the contract “{{ title }}”. It is "
        "your turn to sign it. " + _STAY + "\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your client signed amendment {{ number }} of the contract "
        "<strong>{{ title }}</strong>. It is your turn to sign it. "
        + _STAY
        + "</p>\n"
        + button("contractUrl", "Sign the amendment")
    ),
)

_DECLINER = "your {{ 'contractor' if role|default('') == 'client' else 'client' }}"
"""Who declined, as the recipient (always the other party) says it."""

AMENDMENT_DECLINED = TemplateSpec(
    name="contract.amendment-declined",
    description=(
        "signature.amendment-declined → to the other party than the one who declined: "
        "the current terms stay."
    ),
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "number", "reason"),
    subject="Amendment {{ number }} of “{{ title }}” was declined",
    text=(
        "Hello {{ name }},\n\n"
        "Amendment {{ number }} of the contract “{{ title }}” was declined by "
        + _DECLINER
        + ".\n\nReason: {{ reason }}\n\n"
        + _STAYED
        + "\n\n{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Amendment {{ number }} of the contract <strong>{{ title }}</strong> was declined "
        "by " + _DECLINER + ".</p>\n"
        "<p>Reason: {{ reason }}</p>\n"
        "<p>" + _STAYED + "</p>\n" + button("contractUrl", "View the contract")
    ),
)

_NO_SIGNATURE = "{% if clientSigned|default(false) %} You no longer need to sign it.{% endif %}"
"""Once the client had signed, the contractor had been asked to sign too."""

AMENDMENT_WITHDRAWN = TemplateSpec(
    name="contract.amendment-withdrawn",
    description=(
        "contract.amendment-withdrawn → to the contractor: the client withdrew the "
        "amendment before it was in force; the current terms stay."
    ),
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "number", "reason"),
    subject="Amendment {{ number }} of “{{ title }}” was withdrawn",
    text=(
        "Hello {{ name }},\n\n"
        "Your client withdrew amendment {{ number }} of the contract “{{ title }}”."
        + _NO_SIGNATURE
        + "\n\nReason: {{ reason }}\n\n"
        + _STAYED
        + "\n\n{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your client withdrew amendment {{ number }} of the contract "
        "<strong>{{ title }}</strong>." + _NO_SIGNATURE + "</p>\n"
        "<p>Reason: {{ reason }}</p>\n"
        "<p>" + _STAYED + "</p>\n" + button("contractUrl", "View the contract")
    ),
)

_SCHEDULE = (
    "{% if added or removed %}Payments added to the schedule: {{ added }}; removed from "
    "it: {{ removed }}{% if added and role|default('') == 'client' %} (fund the added "
    "ones from your dashboard){% endif %}.{% else %}The payment schedule is unchanged."
    "{% endif %}"
)
"""What changed in the schedule (a removed payment is no longer owed)."""

AMENDED = TemplateSpec(
    name="contract.amended",
    description=(
        "contract.amended → to both parties: the amendment is signed and in force (from "
        "when, the new total, payments added and removed)."
    ),
    channels=("email", "inApp"),
    variables=(
        "name",
        "title",
        "contractUrl",
        "number",
        "amendedAt",
        "total",
        "previousTotal",
        "added",
        "removed",
    ),
    subject="Amendment {{ number }} of “{{ title }}” is in force",
    text=(
        "Hello {{ name }},\n\n"
        "Amendment {{ number }} of the contract “{{ title }}” is signed by both parties "
        "and in force from {{ amendedAt }}. The contract's total is now {{ total }} (was "
        "{{ previousTotal }}).\n\n" + _SCHEDULE + "\n\n"
        "The signed amendment with its certificate of completion is in your dashboard:\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Amendment {{ number }} of the contract <strong>{{ title }}</strong> is signed "
        "by both parties and in force from <strong>{{ amendedAt }}</strong>. The "
        "contract's total is now <strong>{{ total }}</strong> (was {{ previousTotal }}).</p>\n"
        "<p>" + _SCHEDULE + "</p>\n"
        "<p>The signed amendment with its certificate of completion is in your "
        "dashboard.</p>\n" + button("contractUrl", "View the contract")
    ),
)

AMENDMENT_SEEDS: tuple[TemplateSpec, ...] = (
    AMENDMENT_PROPOSED,
    AMENDMENT_CLIENT_SIGNED,
    AMENDMENT_DECLINED,
    AMENDMENT_WITHDRAWN,
    AMENDED,
)
