"""Mind-Links client service."""
