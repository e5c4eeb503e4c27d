"""Mind-Links contractor service."""
