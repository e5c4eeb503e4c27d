"""The client use cases, one module per seam: ``companies`` (registration
against the registry, the company's edits, an admin's review),
``invitations`` (inviting contractors, revoking, redeeming), ``members``
(the team: listing, re-roling, removal, memberships, the audit, the
backfill) and ``member_invitations`` (inviting to the team, accepting).
Routes commit the unit of work; the rules and values are ``domain``'s and
``teams``'."""
