"""The client use cases, one module per seam: ``companies`` (registration
against the registry, the owner's edits, an admin's review) and
``invitations`` (inviting contractors, revoking, redeeming). Each use case
owns its unit of work; the rules and values are ``domain``'s."""
