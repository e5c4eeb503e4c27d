"""Events in and out of the client service.

Publishes (through the outbox, in the change's own transaction):
- ``company.registered`` — ``domain.Companies.register``;
- ``company.reviewed`` — ``domain.Companies.review`` (an admin's decision);
- ``company.claim-contested`` — ``domain.Companies.register`` (another account
  claimed an active company's registry number; its owner is told);
- ``invitation.created`` — ``invitations.Invitations.record`` (never the token);
- ``company.member-added`` / ``-role-changed`` / ``-removed`` —
  ``service.members.MemberChanges.record``, with the member's items and the
  audit item (registration, accepting an invitation, re-roling, removal,
  leaving, the operator's backfill).

Consumes no business events, so the app takes no ``handlers``; the kit
consumes the revocation events itself (``user.suspended``,
``session.ended``, and the ``company.member-*`` ones, which drop cached
memberships).
"""

from __future__ import annotations
