"""Mind-Links signature service."""
