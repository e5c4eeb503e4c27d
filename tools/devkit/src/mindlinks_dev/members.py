"""Company teams from outside, through the public edge only: an owner (or
admin) invites a person by email with a role, the invitee reads the
single-use token in the local mailbox, signs up if new, and accepts.

The end-to-end suite and the hostile-input suite's cast build their teams
with ``add_member``; ``company`` names the company a request acts for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from mindlinks_dev.demo import Person, Story, StoryFailed, expect
from mindlinks_fleet.teams import COMPANY_HEADER

INVITATIONS = "/v1/clients/me/member-invitations"
ACCEPT = "/v1/clients/member-invitations/accept"
TEMPLATE = "client.member-invitation"
"""The template of the invitation mail (its ``data`` carries the token)."""


def company(company_id: str) -> dict[str, str]:
    """The header naming the company a request acts for."""
    return {COMPANY_HEADER: company_id}


def _invitation_mails(story: Story, email: str) -> list[dict[str, Any]]:
    found = story.api.get("/v1/notifications/dev/mailbox", params={"to": email})
    return [m for m in expect(found, 200)["items"] if m["template"] == TEMPLATE]


def invite(
    story: Story, inviter: Mapping[str, str], email: str, role: str
) -> tuple[dict[str, Any], str]:
    """``inviter`` (its headers, with ``X-Company-Id`` when it has several
    companies) invites ``email`` as ``role``: the invitation and its token, read
    from the mail it sent (the newest invitation mail, not one seen before)."""
    seen = {_mail_token(m) for m in _invitation_mails(story, email)}
    invitation: dict[str, Any] = expect(
        story.api.post(INVITATIONS, headers=dict(inviter), json={"email": email, "role": role}),
        201,
    )

    def fresh() -> str | None:
        tokens = [_mail_token(m) for m in _invitation_mails(story, email)]
        return next((t for t in tokens if t not in seen), None)  # newest first

    token: str = story.until(fresh, f"the {TEMPLATE} mail to {email}")
    return invitation, token


def _mail_token(mail: Mapping[str, Any]) -> str:
    return str(mail["data"]["token"])


def accept(story: Story, person: Person, token: str) -> dict[str, Any]:
    """``person`` (signed in) accepts: ``{companyId, companyName, role}``."""
    accepted: dict[str, Any] = expect(
        story.api.post(ACCEPT, headers=person.auth, json={"token": token}), 200
    )
    return accepted


def add_member(
    story: Story,
    inviter: Mapping[str, str],
    role: str,
    person: Person | None = None,
    name: str = "Morgan Member",
) -> Person:
    """A member of the inviter's company with ``role``: ``person`` if given
    (an account of its own, signed in, perhaps already a member elsewhere),
    else a new client account signed up through the local mailbox."""
    if person is None:
        person = Person(f"{role}-{uuid.uuid4().hex[:10]}@team.example", name, "client")
    _, token = invite(story, inviter, person.email, role)
    if not person.token:
        story.sign_up(person)
    accepted = accept(story, person, token)
    if accepted["role"] != role:
        raise StoryFailed(f"{person.email} joined as {accepted['role']}, invited as {role}")
    return person
