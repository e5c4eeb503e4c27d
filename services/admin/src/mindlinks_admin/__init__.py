"""Mind-Links admin service."""
