"""The Mind-Links operator command line (``mindlinks-ops``)."""
