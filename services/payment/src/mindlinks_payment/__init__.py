"""Mind-Links payment service."""
