"""The default templates, seeded into the ``templates`` table at startup.

This is the one list of templates the platform ships: add a service's
templates here, and bump ``revision`` when changing one so every environment
picks the new text up on its next start (templates edited at runtime, whose
``source`` is not ``seed``, are never overwritten).
"""

from __future__ import annotations

from mindlinks_notification.amendment_seeds import AMENDMENT_SEEDS
from mindlinks_notification.escrow_seeds import ESCROW_SEEDS
from mindlinks_notification.layout import button as _button
from mindlinks_notification.layout import layout as _layout
from mindlinks_notification.signing_seeds import SIGNING_SEEDS
from mindlinks_notification.team_seeds import TEAM_SEEDS
from mindlinks_notification.templates import TemplateSpec
from mindlinks_notification.webhooks.seeds import WEBHOOK_SEEDS

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

ACCOUNT_EXISTS = TemplateSpec(
    name="auth.account-exists",
    description=(
        "Sent by auth when someone registers with an address that already has an "
        "account (the registrant is answered as for a new address)."
    ),
    variables=("name", "signInUrl", "resetUrl"),
    subject="Someone tried to sign up with your email address",
    text=(
        "Hello {{ name }},\n\n"
        "Someone just tried to create a Mind-Links account with this email address, "
        "which already has one.\n\n"
        "If it was you, sign in instead:\n\n"
        "{{ signInUrl }}\n\n"
        "Forgot your password? Choose a new one:\n\n"
        "{{ resetUrl }}\n\n"
        "If it was not you, ignore this email: nothing changed on your account.\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Someone just tried to create a Mind-Links account with this email address, "
        "which already has one.</p>\n"
        "<p>If it was you, sign in instead.</p>\n" + _button("signInUrl", "Sign in") + "\n"
        '<p>Forgot your password? <a href="{{ resetUrl }}">Choose a new one</a>.</p>\n'
        "<p>If it was not you, ignore this email: nothing changed on your account.</p>"
    ),
)

# Issue 16, signer step-up: the one-time code auth mails before a signature.
STEP_UP_CODE = TemplateSpec(
    name="auth.step-up-code",
    description="Sent by auth when a user asks for a one-time code to confirm an action.",
    variables=("name", "code", "action", "reference", "minutes"),
    subject="Your Mind-Links confirmation code",  # not the code: lock screens show subjects
    text=(
        "Hello {{ name }},\n\n"
        "Your code to {{ action }} ({{ reference }}) is: {{ code }}\n\n"
        "It works once, for {{ minutes }} minutes.\n\n"
        "If you did not ask for it, do not share it with anyone, and change your "
        "password: someone may be signed in as you.\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your code to {{ action }} ({{ reference }}) is: <strong>{{ code }}</strong></p>\n"
        "<p>It works once, for {{ minutes }} minutes.</p>\n"
        "<p>If you did not ask for it, do not share it with anyone, and change your "
        "password: someone may be signed in as you.</p>"
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

# The lifecycle's templates. ``variables`` are the data every rendering shows;
# data used only in conditions (``role`` "client"/"contractor", ``reason``,
# ``contractorEmail``, ``allReleased``) is optional, with a ``default`` (the
# contractor's wording, no reason...): ``flows`` always gives it.

# clients and contractors ------------------------------------------------------

CLIENT_INVITATION = TemplateSpec(
    name="client.invitation",
    description=(
        "Sent by client when a company invites a contractor (essential: it carries "
        "the only copy of the single-use token)."
    ),
    variables=("inviteUrl", "token", "companyName", "inviterName"),
    subject="{{ inviterName }} invites you to work with {{ companyName }} on Mind-Links",
    text=(
        "Hello,\n\n"
        "{{ inviterName }} of {{ companyName }} invites you to join them on Mind-Links, "
        "where you will receive and sign your contracts and get paid.\n\n"
        "Accept the invitation:\n\n"
        "{{ inviteUrl }}\n\n"
        "Or enter this code after signing up: {{ token }}\n\n"
        "The invitation is valid for 7 days and can be used once. If you did not "
        "expect it, you can ignore this email.\n"
    ),
    html=_layout(
        "<p>Hello,</p>\n"
        "<p><strong>{{ inviterName }}</strong> of <strong>{{ companyName }}</strong> invites "
        "you to join them on Mind-Links, where you will receive and sign your contracts "
        "and get paid.</p>\n" + _button("inviteUrl", "Accept the invitation") + "\n"
        "<p>Or enter this code after signing up: <strong>{{ token }}</strong></p>\n"
        "<p>The invitation is valid for 7 days and can be used once. If you did not "
        "expect it, you can ignore this email.</p>"
    ),
)

INVITATION_SENT = TemplateSpec(
    name="client.invitation-sent",
    description="invitation.created → in the app, to the client who invited.",
    channels=("inApp",),
    variables=("email", "companyName", "expiresAt"),
    subject="Invitation sent to {{ email }}",
    text=(
        "We emailed {{ email }} an invitation to work with {{ companyName }}. "
        "It is valid until {{ expiresAt }}.\n"
    ),
    html=_layout(
        "<p>We emailed {{ email }} an invitation to work with {{ companyName }}. "
        "It is valid until {{ expiresAt }}.</p>"
    ),
)

CONTRACTOR_JOINED = TemplateSpec(
    name="client.contractor-joined",
    description="invitation.accepted → to the client who invited: who joined.",
    channels=("email", "inApp"),
    variables=("name", "contractorName", "contractorUrl"),
    subject="{{ contractorName }} accepted your invitation",
    text=(
        "Hello {{ name }},\n\n"
        "{{ contractorName }}"
        "{% if contractorEmail|default('') %} ({{ contractorEmail }}){% endif %} "
        "accepted your invitation and joined your company on Mind-Links. Once their "
        "identity is verified you can send them a contract:\n\n"
        "{{ contractorUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p><strong>{{ contractorName }}</strong>{% if contractorEmail|default('') %} "
        "({{ contractorEmail }}){% endif %} accepted your invitation and joined your "
        "company on Mind-Links. Once their identity is verified you can send them a "
        "contract.</p>\n" + _button("contractorUrl", "View contractor")
    ),
)

COMPANY_APPROVED = TemplateSpec(
    name="company.approved",
    description="company.reviewed (approved) → to the company's owner.",
    channels=("email", "inApp"),
    variables=("name", "companyName", "dashboardUrl"),
    subject="{{ companyName }} is approved",
    text=(
        "Hello {{ name }},\n\n"
        "We reviewed {{ companyName }} and approved it. You can now invite your "
        "contractors and send them contracts:\n\n"
        "{{ dashboardUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>We reviewed <strong>{{ companyName }}</strong> and approved it. You can now "
        "invite your contractors and send them contracts.</p>\n"
        + _button("dashboardUrl", "Open my dashboard")
    ),
)

COMPANY_REJECTED = TemplateSpec(
    name="company.rejected",
    description="company.reviewed (rejected) → to the company's owner, with the reason.",
    channels=("email", "inApp"),
    variables=("name", "companyName", "dashboardUrl"),
    subject="We could not approve {{ companyName }}",
    text=(
        "Hello {{ name }},\n\n"
        "We reviewed {{ companyName }} and could not approve it"
        "{% if reason|default(none) %}: {{ reason }}{% else %}.{% endif %}\n\n"
        "If you think this is a mistake, contact us from your dashboard:\n\n"
        "{{ dashboardUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>We reviewed <strong>{{ companyName }}</strong> and could not approve it"
        "{% if reason|default(none) %}: {{ reason }}{% else %}.{% endif %}</p>\n"
        "<p>If you think this is a mistake, contact us from your dashboard.</p>\n"
        + _button("dashboardUrl", "Open my dashboard")
    ),
)

CLAIM_CONTESTED = TemplateSpec(
    name="company.claim-contested",
    description=(
        "company.claim-contested → to the owner of the active company whose registry "
        "number another account claimed (essential)."
    ),
    channels=("email", "inApp"),
    variables=("name", "companyName", "companyNumber", "dashboardUrl"),
    subject="Someone else registered {{ companyName }} on Mind-Links",
    text=(
        "Hello {{ name }},\n\n"
        "Another Mind-Links account has just registered a company with the registry "
        "number of {{ companyName }} ({{ companyNumber }}). We hold that registration: it "
        "cannot invite contractors or sign contracts, and nothing changes for your company "
        "while our team reviews it.\n\n"
        "If you know who it is (a colleague, say), there is nothing to do. If not, tell us "
        "from your dashboard:\n\n"
        "{{ dashboardUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Another Mind-Links account has just registered a company with the registry "
        "number of <strong>{{ companyName }}</strong> ({{ companyNumber }}). We hold that "
        "registration: it cannot invite contractors or sign contracts, and nothing changes "
        "for your company while our team reviews it.</p>\n"
        "<p>If you know who it is (a colleague, say), there is nothing to do. If not, tell "
        "us from your dashboard.</p>\n" + _button("dashboardUrl", "Open my dashboard")
    ),
)

KYC_VERIFIED = TemplateSpec(
    name="kyc.verified",
    description="kyc.verified → to the contractor.",
    channels=("email", "inApp"),
    variables=("name", "dashboardUrl"),
    subject="Your identity is verified",
    text=(
        "Hello {{ name }},\n\n"
        "Your identity is verified. Your clients can now send you contracts:\n\n"
        "{{ dashboardUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your identity is verified. Your clients can now send you contracts.</p>\n"
        + _button("dashboardUrl", "Open my dashboard")
    ),
)

KYC_REJECTED = TemplateSpec(
    name="kyc.rejected",
    description="kyc.rejected → to the contractor, with the provider's reason when given.",
    channels=("email", "inApp"),
    variables=("name", "dashboardUrl"),
    subject="We could not verify your identity",
    text=(
        "Hello {{ name }},\n\n"
        "We could not verify your identity"
        "{% if reason|default(none) %}: {{ reason }}{% else %}.{% endif %}\n\n"
        "You can start a new verification from your dashboard:\n\n"
        "{{ dashboardUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>We could not verify your identity"
        "{% if reason|default(none) %}: {{ reason }}{% else %}.{% endif %}"
        "</p>\n<p>You can start a new verification from your dashboard.</p>\n"
        + _button("dashboardUrl", "Open my dashboard")
    ),
)

# contracts --------------------------------------------------------------------

SIGN_REQUESTED = TemplateSpec(
    name="contract.sign-requested",
    description="contract.sent-for-signature → to the contractor: please review and sign.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl"),
    subject="Please review and sign “{{ title }}”",
    text=(
        "Hello {{ name }},\n\n"
        "Your client sent you the contract “{{ title }}”. Please review it; once the "
        "client has signed, you will be asked to sign too:\n\n"
        "{{ contractUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your client sent you the contract <strong>{{ title }}</strong>. Please review "
        "it; once the client has signed, you will be asked to sign too.</p>\n"
        + _button("contractUrl", "Review the contract")
    ),
)

CLIENT_SIGNED = TemplateSpec(
    name="contract.client-signed",
    description="signature.client-signed → to the contractor: the client signed, your turn.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl"),
    subject="Your client signed “{{ title }}”: your turn",
    text=(
        "Hello {{ name }},\n\n"
        "Your client signed the contract “{{ title }}”. It is your turn to sign:\n\n"
        "{{ contractUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>Your client signed the contract <strong>{{ title }}</strong>. It is your turn "
        "to sign.</p>\n" + _button("contractUrl", "Sign the contract")
    ),
)

FULLY_SIGNED = TemplateSpec(
    name="contract.fully-signed",
    description="signature.completed → to both parties.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl"),
    subject="“{{ title }}” is signed by both parties",
    text=(
        "Hello {{ name }},\n\n"
        "The contract “{{ title }}” is signed by both parties. The signed copy with its "
        "certificate of completion is in your dashboard:\n\n"
        "{{ contractUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>The contract <strong>{{ title }}</strong> is signed by both parties. The signed "
        "copy with its certificate of completion is in your dashboard.</p>\n"
        + _button("contractUrl", "View the contract")
    ),
)

ACTIVATED = TemplateSpec(
    name="contract.activated",
    description="ledger.contract-activated → to both parties: active, payments scheduled.",
    channels=("email", "inApp"),
    variables=("name", "title", "contractUrl", "total", "payments"),
    subject="“{{ title }}” is active",
    text=(
        "Hello {{ name }},\n\n"
        "The contract “{{ title }}” is active and recorded in the ledger. "
        "{{ payments }} payment{{ 's' if payments != 1 else '' }} totalling {{ total }} "
        "{{ 'are' if payments != 1 else 'is' }} scheduled"
        "{% if role|default('') == 'client' %}; fund them from your dashboard{% endif %}.\n\n"
        "{{ contractUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>The contract <strong>{{ title }}</strong> is active and recorded in the ledger. "
        "{{ payments }} payment{{ 's' if payments != 1 else '' }} totalling "
        "<strong>{{ total }}</strong> {{ 'are' if payments != 1 else 'is' }} scheduled"
        "{% if role|default('') == 'client' %}; fund them from your dashboard{% endif %}.</p>\n"
        + _button("contractUrl", "View the contract")
    ),
)

# payments ---------------------------------------------------------------------

PAYMENT_FUNDED = TemplateSpec(
    name="payment.funded",
    description="payment.confirmed → to both parties: funded and held in escrow.",
    channels=("email", "inApp"),
    variables=("name", "amount", "contractUrl"),
    revision=2,
    subject="{{ amount }} is held in escrow",
    text=(
        "Hello {{ name }},\n\n"
        "{% if role|default('') == 'client' %}Your payment of {{ amount }} was received"
        "{% else %}Your client funded a payment of {{ amount }}{% endif %}. "
        "It is held in escrow until the client approves the work the contractor submits "
        "(unanswered, it is released when the review period ends).\n\n"
        "{{ contractUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>{% if role|default('') == 'client' %}Your payment of <strong>{{ amount }}</strong> was "
        "received{% else %}Your client funded a payment of <strong>{{ amount }}</strong>"
        "{% endif %}. It is held in escrow until the client approves the work the contractor "
        "submits (unanswered, it is released when the review period ends).</p>\n"
        + _button("contractUrl", "View the contract")
    ),
)


def _released(amount: str) -> str:
    """How the money went: the client's approval, the review period's end, an
    agreement, or an admin's resolution of a dispute (``reason``)."""
    return (
        "{% set how = reason|default('approved') %}"
        "{% if how == 'approved' %}{% if role|default('') == 'client' %}You released "
        + amount
        + " to your contractor{% else %}Your client released "
        + amount
        + " to you{% endif %}{% else %}"
        + amount
        + " was released to {{ 'your contractor' if role|default('') == 'client' else 'you' }}"
        "{% if how == 'auto-release' %}: the client's review period ended without an answer"
        "{% elif how == 'agreed' %}, as you and the other party agreed"
        "{% elif how == 'dispute' %} by a Mind-Links admin's resolution of the dispute"
        "{% endif %}{% endif %}"
        "{% if role|default('') != 'client' %}; it is on its way to your bank account{% endif %}."
    )


PAYMENT_RELEASED = TemplateSpec(
    name="payment.released",
    description="payment.released → to both parties: the escrowed payment went out (how).",
    channels=("email", "inApp"),
    variables=("name", "amount", "contractUrl"),
    revision=2,
    subject=(
        "{{ amount }} released to {{ 'the contractor' if role|default('') == 'client' else 'you' }}"
    ),
    text=(
        "Hello {{ name }},\n\n"
        + _released("{{ amount }}")
        + "{% if allReleased|default(false) %} Every payment of this contract is now "
        "released.{% endif %}\n\n"
        "{{ contractUrl }}\n"
    ),
    html=_layout(
        "<p>Hello {{ name }},</p>\n"
        "<p>"
        + _released("<strong>{{ amount }}</strong>")
        + "{% if allReleased|default(false) %} Every payment of this contract is now "
        "released.{% endif %}</p>\n" + _button("contractUrl", "View the contract")
    ),
)

SEEDS: tuple[TemplateSpec, ...] = (
    VERIFY_EMAIL,
    RESET_PASSWORD,
    ACCOUNT_EXISTS,
    STEP_UP_CODE,
    WELCOME,
    CLIENT_INVITATION,
    INVITATION_SENT,
    CONTRACTOR_JOINED,
    COMPANY_APPROVED,
    COMPANY_REJECTED,
    CLAIM_CONTESTED,
    KYC_VERIFIED,
    KYC_REJECTED,
    SIGN_REQUESTED,
    CLIENT_SIGNED,
    FULLY_SIGNED,
    ACTIVATED,
    PAYMENT_FUNDED,
    PAYMENT_RELEASED,
    *TEAM_SEEDS,
    *ESCROW_SEEDS,
    *WEBHOOK_SEEDS,
    *SIGNING_SEEDS,
    *AMENDMENT_SEEDS,
)
