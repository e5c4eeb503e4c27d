"""Developer tooling for Mind-Links (never imported by services)."""
