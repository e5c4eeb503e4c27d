"""Mind-Links notification service."""
