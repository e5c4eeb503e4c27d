"""The seeded mails' HTML frame and button (inline styles only)."""

from __future__ import annotations


def layout(body: str) -> str:
    """A plain, email-client-safe HTML frame around a body (inline styles only)."""
    return (
        '<!doctype html>\n<html><body style="margin:0;padding:24px;background:#f5f5f7;'
        'font-family:Helvetica,Arial,sans-serif;color:#1d1d1f">\n'
        '<div style="max-width:560px;margin:0 auto;background:#ffffff;padding:32px;'
        'border-radius:8px">\n'
        f"{body}\n"
        '<p style="margin-top:32px;font-size:12px;color:#6e6e73">Mind-Links</p>\n'
        "</div>\n</body></html>\n"
    )


def button(url_variable: str, label: str) -> str:
    return (
        f'<p><a href="{{{{ {url_variable} }}}}" style="display:inline-block;'
        "padding:12px 20px;background:#0a58ca;color:#ffffff;text-decoration:none;"
        f'border-radius:6px">{label}</a></p>'
    )
