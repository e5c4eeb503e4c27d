"""The contractor use cases, one module per seam: ``contractors``
(onboarding through an invitation, who sees a contractor, the owner's edits,
KYC decisions) and ``bank`` (bank details, sealed and masked). Each use case
owns its unit of work; the rules and values are ``domain``'s."""
