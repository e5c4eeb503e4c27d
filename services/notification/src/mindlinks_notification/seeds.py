"""The default templates, seeded into the ``templates`` table at startup.

This is the one list of templates the platform ships: add a service's
templates here, and bump ``revision`` when changing one so every environment
picks the new text up on its next start (templates edited at runtime, whose
``source`` is not ``seed``, are never overwritten).
"""

from __future__ import annotations

from mindlinks_notification.templates import TemplateSpec


def _layout(body: str) -> str:
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


def _button(url_variable: str, label: str) -> str:
    return (
        f'<p><a href="{{{{ {url_variable} }}}}" style="display:inline-block;'
        "padding:12px 20px;background:#0a58ca;color:#ffffff;text-decoration:none;"
        f'border-radius:6px">{label}</a></p>'
    )


VERIFY_EMAIL = TemplateSpec(
    name="auth.verify-email",
    description="Sent by auth at registration: confirm the email address.",
    variables=("verifyUrl", "token", "name"),
    subject="Confirm your email address",
    text=(
        "Hello {{ name }},\n\n"
        "Please confirm your email address to finish setting up your Mind-Links account:\n\n"
        "{{ verifyUrl }}\n\n"
        "Or enter this code: {{ token }}\n\n"
        "If you did not create an account, you can ignore this email.\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Please confirm your email address to finish setting up your Mind-Links "
        "account.</p>\n" + _button("verifyUrl", "Confirm my email") + "\n"
        "<p>Or enter this code: <strong>{{ token }}</strong></p>\n"
        "<p>If you did not create an account, you can ignore this email.</p>"
    ),
)

RESET_PASSWORD = TemplateSpec(
    name="auth.reset-password",
    description="Sent by auth when a password reset is requested.",
    variables=("resetUrl", "token", "name"),
    subject="Reset your Mind-Links password",
    text=(
        "Hello {{ name }},\n\n"
        "Someone asked to reset the password of your Mind-Links account. "
        "To choose a new one, open:\n\n"
        "{{ resetUrl }}\n\n"
        "Or enter this code: {{ token }}\n\n"
        "If it was not you, ignore this email: your password stays as it is.\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Someone asked to reset the password of your Mind-Links account.</p>\n"
        + _button("resetUrl", "Choose a new password")
        + "\n"
        "<p>Or enter this code: <strong>{{ token }}</strong></p>\n"
        "<p>If it was not you, ignore this email: your password stays as it is.</p>"
    ),
)

WELCOME = TemplateSpec(
    name="user.welcome",
    description="Sent on user.created: a welcome in the app and by email.",
    channels=("email", "inApp"),
    variables=("name", "dashboardUrl"),
    subject="Welcome to Mind-Links, {{ name }}",
    text=(
        "Hello {{ name }},\n\n"
        "Your Mind-Links account is ready. Your dashboard is waiting for you at "
        "{{ dashboardUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your Mind-Links account is ready.</p>\n" + _button("dashboardUrl", "Open my dashboard")
    ),
)

SEEDS: tuple[TemplateSpec, ...] = (VERIFY_EMAIL, RESET_PASSWORD, WELCOME)
