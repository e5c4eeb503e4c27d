"""The escrow lifecycle's templates (issue 15; seeded with ``seeds.SEEDS``):
work submitted and reviewed, reminders, disputes, refunds, settlements,
invoices, and a contract's termination. ``role`` is the recipient's side
(``client`` or ``contractor``) where both may receive one."""

from __future__ import annotations

from mindlinks_notification.layout import button, layout
from mindlinks_notification.templates import TemplateSpec

_OTHER = "{{ 'contractor' if role|default('') == 'client' else 'client' }}"
"""The other party, as the recipient calls them."""

WORK_SUBMITTED = TemplateSpec(
    name="escrow.work-submitted",
    description="payment.work-submitted → to the client: review the work by the due date.",
    channels=("email", "inApp"),
    variables=("name", "amount", "contractUrl", "reviewDueAt"),
    subject="Work submitted for review: {{ amount }}",
    text=(
        "Hello {{ name }},\n\n"
        "Your contractor submitted work"
        "{% if submissionNo|default(1) > 1 %} again (submission {{ submissionNo }}){% endif %} "
        "for the payment of {{ amount }} held in escrow. Approve it to "
        "release the payment, or ask for changes, by {{ reviewDueAt }}. Unanswered, the "
        "payment is released to the contractor then.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your contractor submitted work"
        "{% if submissionNo|default(1) > 1 %} again (submission {{ submissionNo }}){% endif %} "
        "for the payment of <strong>{{ amount }}</strong> held in escrow. Approve it to "
        "release the payment, or ask for "
        "changes, by <strong>{{ reviewDueAt }}</strong>. Unanswered, the payment is "
        "released to the contractor then.</p>\n" + button("contractUrl", "Review the work")
    ),
)

CHANGES_REQUESTED = TemplateSpec(
    name="escrow.changes-requested",
    description="payment.changes-requested → to the contractor: what the client asks for.",
    channels=("email", "inApp"),
    variables=("name", "amount", "contractUrl", "reason"),
    subject="Changes requested",
    text=(
        "Hello {{ name }},\n\n"
        "Your client asked for changes before releasing {{ amount }}:\n\n"
        "{{ reason }}\n\n"
        "Submit the work again when it is ready:\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your client asked for changes before releasing "
        "<strong>{{ amount }}</strong>:</p>\n"
        '<blockquote style="margin:0 0 16px;padding-left:12px;border-left:3px solid #d2d2d7">'
        "{{ reason }}</blockquote>\n"
        "<p>Submit the work again when it is ready.</p>\n"
        + button("contractUrl", "View the contract")
    ),
)

REVIEW_REMINDER = TemplateSpec(
    name="escrow.review-reminder",
    description="payment.review-reminder → to the client: days left before the auto-release.",
    channels=("email", "inApp"),
    variables=("name", "amount", "contractUrl", "daysLeft", "reviewDueAt"),
    subject=("{{ daysLeft }} day{{ 's' if daysLeft != 1 else '' }} left to review the work"),
    text=(
        "Hello {{ name }},\n\n"
        "{{ daysLeft }} day{{ 's' if daysLeft != 1 else '' }} left: work your contractor "
        "submitted is waiting for your review. Unless you approve it "
        "or ask for changes by {{ reviewDueAt }}, the {{ amount }} held in escrow is "
        "released to the contractor.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p><strong>{{ daysLeft }} day{{ 's' if daysLeft != 1 else '' }} left</strong>: work "
        "your contractor submitted is waiting for your review. Unless "
        "you approve it or ask for changes by <strong>{{ reviewDueAt }}</strong>, the "
        "<strong>{{ amount }}</strong> held in escrow is released to the contractor.</p>\n"
        + button("contractUrl", "Review the work")
    ),
)

DISPUTED = TemplateSpec(
    name="escrow.disputed",
    description="payment.disputed → to the other party: the payment is frozen for an admin.",
    channels=("email", "inApp"),
    variables=("name", "amount", "contractUrl", "reason"),
    subject="Your " + _OTHER + " opened a dispute",
    text=(
        "Hello {{ name }},\n\n"
        "Your " + _OTHER + " opened a dispute over the payment of {{ amount }}:\n\n"
        "{{ reason }}\n\n"
        "The payment stays in escrow, frozen, until a Mind-Links admin resolves the dispute: "
        "released to the contractor, refunded to the client, or split between you.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your " + _OTHER + " opened a dispute over the payment of "
        "<strong>{{ amount }}</strong>:</p>\n"
        '<blockquote style="margin:0 0 16px;padding-left:12px;border-left:3px solid #d2d2d7">'
        "{{ reason }}</blockquote>\n"
        "<p>The payment stays in escrow, frozen, until a Mind-Links admin resolves the "
        "dispute: released to the contractor, refunded to the client, or split between "
        "you.</p>\n" + button("contractUrl", "View the contract")
    ),
)

_WHY_REFUNDED = (
    "{% if reason|default('') == 'terminated' %}, as the contract was terminated"
    "{% elif reason|default('') == 'agreed' %}, as you and your contractor agreed"
    "{% elif reason|default('') == 'dispute' %}, as a Mind-Links admin resolved the dispute"
    "{% endif %}"
)

REFUNDED = TemplateSpec(
    name="escrow.refunded",
    description="payment.refunded → to the client: money back to the card it came from.",
    channels=("email", "inApp"),
    variables=("name", "refunded", "contractUrl"),
    subject="{{ refunded }} refunded to you",
    text=(
        "Hello {{ name }},\n\n"
        "{{ refunded }} held in escrow is refunded to you"
        + _WHY_REFUNDED
        + ". It reaches the card it was paid with within a few business days.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p><strong>{{ refunded }}</strong> held in escrow is "
        "refunded to you"
        + _WHY_REFUNDED
        + ". It reaches the card it was paid with within a few business days.</p>\n"
        + button("contractUrl", "View the contract")
    ),
)

_OUTCOME = (
    "{% if outcome|default('') == 'released' %}all {{ amount }} went to the contractor"
    "{% elif outcome|default('') == 'refunded' %}all {{ amount }} went back to the client"
    "{% elif outcome|default('') == 'split' %}{{ released }} went to the contractor and "
    "{{ refunded }} back to the client"
    "{% else %}it was cancelled before it was funded{% endif %}"
)

SETTLED = TemplateSpec(
    name="escrow.settled",
    description=(
        "payment.item-settled → the item's final outcome, to whom no other mail told it "
        "(payment.released and payment.refunded tell the money that moved)."
    ),
    channels=("email", "inApp"),
    variables=(
        "name",
        "amount",
        "contractUrl",
    ),
    subject="A payment of {{ amount }} is settled",
    text=(
        "Hello {{ name }},\n\n"
        "{% if reason|default('') == 'dispute' %}A Mind-Links admin resolved the dispute over "
        "the payment of {{ amount }}: {% else %}The payment of {{ amount }} is settled: {% endif %}"
        + _OUTCOME
        + ".{% if allSettled|default(false) %} Every "
        "payment of this contract is now settled.{% endif %}\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>{% if reason|default('') == 'dispute' %}A Mind-Links admin resolved the dispute "
        "over the payment of <strong>{{ amount }}</strong>: "
        "{% else %}The payment of <strong>{{ amount }}</strong> "
        "is settled: {% endif %}"
        + _OUTCOME
        + ".{% if allSettled|default(false) %} Every payment of this "
        "contract is now settled.{% endif %}</p>\n" + button("contractUrl", "View the contract")
    ),
)

INVOICE_ISSUED = TemplateSpec(
    name="escrow.invoice-issued",
    description="payment.invoice-issued → to both parties: the invoice of a release.",
    channels=("email", "inApp"),
    variables=("name", "number", "amount", "contractUrl"),
    subject="Invoice {{ number }} for {{ amount }}",
    text=(
        "Hello {{ name }},\n\n"
        "{% if role|default('') == 'contractor' %}Invoice {{ number }} to your client for the "
        "{{ amount }} released to you is issued{% else %}Your contractor's invoice "
        "{{ number }} for the {{ amount }} you released is issued{% endif %}. Download the "
        "PDF from the contract's payments:\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>{% if role|default('') == 'contractor' %}Invoice <strong>{{ number }}</strong> "
        "to your client for the <strong>{{ amount }}</strong> released to you is issued"
        "{% else %}Your contractor's invoice <strong>{{ number }}</strong> for the "
        "<strong>{{ amount }}</strong> you released is issued{% endif %}. Download the PDF "
        "from the contract's payments.</p>\n" + button("contractUrl", "View the invoice")
    ),
)

_BY = "{% if bySide|default('') == role|default('') %}You{% else %}Your {{ bySide }}{% endif %}"
"""Who ended it, as the recipient says it."""

TERMINATION_SCHEDULED = TemplateSpec(
    name="contract.termination-scheduled",
    description="contract.termination-scheduled → to both parties: notice given, the end date.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "reason", "endsAt"),
    subject="“{{ title }}” ends on {{ endsAt }}",
    text=(
        "Hello {{ name }},\n\n"
        + _BY
        + " gave notice to terminate the contract “{{ title }}”. It ends on {{ endsAt }}."
        "\n\nReason: {{ reason }}\n\n"
        "Until then it runs as before. When it ends, payments not yet funded are "
        "cancelled, funded ones not yet submitted are refunded to the client, and "
        "submitted work follows its review.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>" + _BY + " gave notice to terminate the contract <strong>{{ title }}</strong>. "
        "It ends on <strong>{{ endsAt }}</strong>.</p>\n"
        "<p>Reason: {{ reason }}</p>\n"
        "<p>Until then it runs as before. When it ends, payments not yet funded are "
        "cancelled, funded ones not yet submitted are refunded to the client, and "
        "submitted work follows its review.</p>\n" + button("contractUrl", "View the contract")
    ),
)

_HOW_ENDED = (
    "{% if bySide|default('') == role|default('') %} at your request"
    "{% else %} by your {{ bySide }}{% endif %}"
)

TERMINATED = TemplateSpec(
    name="contract.terminated",
    description="contract.terminated → to both parties: the contract ended early.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "reason"),
    subject="“{{ title }}” is terminated",
    text=(
        "Hello {{ name }},\n\n"
        "The contract “{{ title }}” is terminated" + _HOW_ENDED + ".\n\n"
        "Reason: {{ reason }}\n\n"
        "Payments not yet funded are cancelled, funded ones not yet submitted are "
        "refunded to the client, and submitted work follows its review.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>The contract <strong>{{ title }}</strong> is terminated" + _HOW_ENDED + ".</p>\n"
        "<p>Reason: {{ reason }}</p>\n"
        "<p>Payments not yet funded are cancelled, funded ones not yet submitted are "
        "refunded to the client, and submitted work follows its review.</p>\n"
        + button("contractUrl", "View the contract")
    ),
)

ESCROW_SEEDS: tuple[TemplateSpec, ...] = (
    WORK_SUBMITTED,
    CHANGES_REQUESTED,
    REVIEW_REMINDER,
    DISPUTED,
    REFUNDED,
    SETTLED,
    INVOICE_ISSUED,
    TERMINATION_SCHEDULED,
    TERMINATED,
)
