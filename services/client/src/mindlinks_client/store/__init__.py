"""The client service's tables, one module per table: ``companies`` and
``invitations``. Nothing else reads or writes them."""
