"""The payment use cases, one module per seam: ``payments`` (schedules,
escrow, release), ``payouts`` (contractors' connected accounts), ``webhooks``
(Stripe's events) and ``oversight`` (what the admin service sees and does).
Each use case owns its unit of work; the rules and values are ``domain``'s."""
