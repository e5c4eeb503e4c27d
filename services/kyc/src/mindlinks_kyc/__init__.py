"""Mind-Links kyc service."""
