"""The company team templates (seeded with ``seeds.SEEDS``): the member
invitation mail and the notes to a member whose membership changed."""

from __future__ import annotations

from mindlinks_notification.layout import button, layout
from mindlinks_notification.templates import TemplateSpec

MEMBER_INVITATION = TemplateSpec(
    name="client.member-invitation",
    description=(
        "Sent by client when a company invites someone to its team (essential: it "
        "carries the only copy of the single-use token)."
    ),
    variables=("inviteUrl", "token", "companyName", "inviterName", "role"),
    subject="{{ inviterName }} invites you to the {{ companyName }} team on Mind-Links",
    text=(
        "Hello,\n\n"
        "{{ inviterName }} invites you to join {{ companyName }} on Mind-Links as "
        "{{ role }}.\n\n"
        "Accept the invitation (sign in, or create a client account with this email "
        "address first):\n\n"
        "{{ inviteUrl }}\n\n"
        "Or enter this code once signed in: {{ token }}\n\n"
        "The invitation is valid for 7 days and can be used once. If you did not "
        "expect it, you can ignore this email.\n"
    ),
    html=layout(
        "<p>Hello,</p>\n"
        "<p><strong>{{ inviterName }}</strong> invites you to join "
        "<strong>{{ companyName }}</strong> on Mind-Links as <strong>{{ role }}</strong>. "
        "Sign in, or create a client account with this email address first.</p>\n"
        + button("inviteUrl", "Accept the invitation")
        + "\n<p>Or enter this code once signed in: <strong>{{ token }}</strong></p>\n"
        "<p>The invitation is valid for 7 days and can be used once. If you did not "
        "expect it, you can ignore this email.</p>"
    ),
)

MEMBER_ADDED = TemplateSpec(
    name="company.member-added",
    description="company.member-added → to the new member: which company, which role.",
    channels=("email", "inApp"),
    variables=("name", "companyName", "role", "dashboardUrl"),
    subject="You joined {{ companyName }} on Mind-Links",
    text=(
        "Hello {{ name }},\n\n"
        "You are now a member of {{ companyName }} on Mind-Links, as {{ role }}.\n\n"
        "{{ dashboardUrl }}\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>You are now a member of <strong>{{ companyName }}</strong> on Mind-Links, as "
        "<strong>{{ role }}</strong>.</p>\n" + button("dashboardUrl", "Open my dashboard")
    ),
)

MEMBER_ROLE_CHANGED = TemplateSpec(
    name="company.member-role-changed",
    description="company.member-role-changed → to the member: their new role.",
    channels=("email", "inApp"),
    variables=("name", "companyName", "role", "previousRole"),
    subject="Your role in {{ companyName }} is now {{ role }}",
    text=(
        "Hello {{ name }},\n\n"
        "Your role in {{ companyName }} on Mind-Links changed from {{ previousRole }} "
        "to {{ role }}.\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your role in <strong>{{ companyName }}</strong> on Mind-Links changed from "
        "{{ previousRole }} to <strong>{{ role }}</strong>.</p>"
    ),
)

MEMBER_REMOVED = TemplateSpec(
    name="company.member-removed",
    description="company.member-removed → to the former member: they no longer belong.",
    channels=("email", "inApp"),
    variables=("name", "companyName"),
    subject="You are no longer a member of {{ companyName }}",
    text=(
        "Hello {{ name }},\n\n"
        "You are no longer a member of {{ companyName }} on Mind-Links"
        "{% if left|default(false) %}: you left the company{% endif %}.\n"
    ),
    html=layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>You are no longer a member of <strong>{{ companyName }}</strong> on "
        "Mind-Links{% if left|default(false) %}: you left the company{% endif %}.</p>"
    ),
)

TEAM_SEEDS = (MEMBER_INVITATION, MEMBER_ADDED, MEMBER_ROLE_CHANGED, MEMBER_REMOVED)
