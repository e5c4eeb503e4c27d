"""The admin service's use cases, one module per seam: ``people`` (accounts,
companies, contractors, KYC), ``business`` (contracts and payments across
tenants), ``escrow`` (one escrowed item with its history, dispute
resolutions), ``operations`` (the fleet's health, queues and dead letters, the
ledger's integrity) and ``audit`` (the append-only trail every one of them
writes). Peers are read through ``clients``, ``ops`` and ``peers``; the
values and problems are ``domain``'s."""
