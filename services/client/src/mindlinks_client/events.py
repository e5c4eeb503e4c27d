"""Events in and out of the client service.

Publishes (through the outbox, in the change's own transaction):
- ``company.registered`` — ``domain.Companies.register``;
- ``company.reviewed`` — ``domain.Companies.review`` (an admin's decision);
- ``company.claim-contested`` — ``domain.Companies.register`` (another account
  claimed an active company's registry number; its owner is told);
- ``invitation.created`` — ``invitations.Invitations.record`` (never the token).

Consumes no business events, so the app takes no ``handlers``; the kit
consumes ``user.suspended`` itself (fleet-wide token revocation).
"""

from __future__ import annotations
