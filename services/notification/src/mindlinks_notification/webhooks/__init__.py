"""Outbound webhooks for client companies (issue 16): endpoints a company's
admins subscribe to public event types, signed deliveries with retries on the
service's timers, a delivery log and replays. ``docs/webhooks.md`` is the
receivers' side; ADR 0016 says why it lives in the notification service."""
