"""The notification use cases, one module per seam: ``notifier`` (sending,
in-app notifications) and ``flows`` (lifecycle events → notifications). Each
use case owns its unit of work; the rules and values are ``domain``'s."""
