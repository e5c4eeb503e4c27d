"""Mind-Links service kit: what every service must do the same way.

Wire formats, token checks, retry policy, log shape, event envelope, error
body, AWS and telemetry setup. It names no business noun and never imports a
service or the fleet declaration.
"""
