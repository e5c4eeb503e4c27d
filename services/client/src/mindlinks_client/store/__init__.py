"""The client service's tables, one module per table (``members`` also keeps
the ``member-changes`` audit): ``companies``, ``invitations``, ``members``,
``member_invitations``. Nothing else reads or writes them."""
