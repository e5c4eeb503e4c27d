"""Mind-Links auth service."""
