"""Mind-Links contract service."""
