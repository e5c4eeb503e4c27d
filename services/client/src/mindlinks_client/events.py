"""Events in and out of the client service.

Publishes (through the outbox, in the change's own transaction):
- ``company.registered`` — ``domain.Companies.register``;
- ``invitation.created`` — ``invitations.Invitations.record`` (never the token).

Consumes nothing (the fleet declares no subscription), so the app takes no
``handlers``.
"""

from __future__ import annotations

PUBLISHES = ("company.registered", "invitation.created")
