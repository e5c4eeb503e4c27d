"""The webhooks' template (issue 16; seeded with ``seeds.SEEDS``)."""

from __future__ import annotations

from mindlinks_notification.layout import button, layout
from mindlinks_notification.templates import TemplateSpec

ENDPOINT_DISABLED = TemplateSpec(
    name="webhooks.endpoint-disabled",
    description=(
        "A webhook endpoint failed every delivery for three days and was disabled → "
        "to the company's owners and admins."
    ),
    channels=("email", "inApp"),
    variables=("name", "url", "failingSince", "webhooksUrl"),
    subject="A webhook endpoint was disabled",
    text=(
        "Hello {{ name }},\n\n"
        "Every delivery to your webhook endpoint {{ url }} has failed since "
        "{{ failingSince }}, so we disabled it: it receives no more events. Fix the "
        "receiver, enable the endpoint again and replay what it missed:\n\n"
        "{{ webhooksUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Every delivery to your webhook endpoint <strong>{{ url }}</strong> has failed "
        "since {{ failingSince }}, so we disabled it: it receives no more events. Fix the "
        "receiver, enable the endpoint again and replay what it missed.</p>\n"
        + button("webhooksUrl", "Open the endpoint")
    ),
)

WEBHOOK_SEEDS: tuple[TemplateSpec, ...] = (ENDPOINT_DISABLED,)
