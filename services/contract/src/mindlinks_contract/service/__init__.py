"""The contract use cases, one module per seam: ``contracts`` (the client's:
drafting, listing, sending, voiding, templates), ``moves`` (what the
signature service and the ledger's events move), ``endings`` (termination
by either party, its timer, completion on payment's events) and
``operations`` (the admin service's). Each use case owns its unit of work;
the rules and values are ``domain``'s."""
