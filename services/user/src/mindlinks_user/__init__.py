"""Mind-Links user service."""
