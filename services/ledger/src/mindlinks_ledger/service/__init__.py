"""The ledger's use cases, one module per seam: ``ledger`` (appends, reads,
exports, verification, anchoring) and ``activation`` (``signature.completed``
→ the activation and the payment schedule). The journal's mechanics are
``journal``'s; the rules and values are ``domain``'s."""
