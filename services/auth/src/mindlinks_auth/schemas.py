"""Auth's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from mindlinks_auth.domain import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, User, normalize_email
from mindlinks_fleet.events import Role
from mindlinks_fleet.internal.auth import AccountRecord, UserRecord
from mindlinks_fleet.step_up import PURPOSE_PATTERN, Method
from mindlinks_kit.schemas import EMAIL_SCHEMA, ONE_LINE, ApiModel

Email = Annotated[
    str, StringConstraints(max_length=320), AfterValidator(normalize_email), EMAIL_SCHEMA
]
LooseEmail = Annotated[str, StringConstraints(min_length=1, max_length=320)]
"""An address as typed (sign-in, resend): never a syntax error that could tell
registered addresses apart."""
Password = Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
NewPassword = Annotated[Password, Field(json_schema_extra={"minLength": PASSWORD_MIN_LENGTH})]
"""Documents the length rule; ``password_problems`` enforces it (422 ``weak-password``)."""
Secret = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
Code = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class RegisterRequest(ApiModel):
    email: Email
    password: NewPassword
    name: Name
    role: Literal["client", "contractor"]


class RegistrationAccepted(ApiModel):
    """The same for a new and a taken address: either way a mail goes to it
    (a verification link, or a notice to the existing owner)."""

    email: str


class EmailRequest(ApiModel):
    email: LooseEmail


class TokenRequest(ApiModel):
    token: Secret


class VerifiedEmail(ApiModel):
    email_verified: bool = True


class LoginRequest(ApiModel):
    email: LooseEmail
    password: Password
    mfa_code: str | None = Field(default=None, max_length=16)


class TokenPair(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name
    expires_in: int


class RefreshRequest(ApiModel):
    refresh_token: Secret


class ResetPasswordRequest(ApiModel):
    token: Secret
    password: NewPassword


class Me(ApiModel):
    id: str
    email: str
    name: str
    role: Role
    email_verified: bool
    mfa_enabled: bool
    status: Literal["active", "suspended"]
    created_at: str

    @classmethod
    def of(cls, user: User) -> Me:
        return cls.model_validate(user, from_attributes=True)


class MfaSetup(ApiModel):
    secret: str
    otpauth_uri: str


class MfaCodeRequest(ApiModel):
    code: Code


# step-up -------------------------------------------------------------------

Purpose = Annotated[
    str,
    StringConstraints(pattern=PURPOSE_PATTERN),
    Field(examples=["contract-sign:3f2a9c0e5b7d4e1f8a6c2b9d0e4f7a1c"]),
]
ChallengeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{32,64}$")]


class StepUpChallengeRequest(ApiModel):
    method: Method
    """``email``: a code is mailed now; ``totp``: the authenticator app's code
    (only with two-factor authentication on)."""
    purpose: Purpose
    """The one action the step-up token will allow: ``contract-sign:<contractId>``."""


class StepUpChallenge(ApiModel):
    challenge_id: str
    method: Method
    expires_at: str
    """Until when the code can be confirmed."""


class StepUpRequest(ApiModel):
    challenge_id: ChallengeId
    code: Code


class StepUpGrant(ApiModel):
    step_up_token: str
    """Send it with the action (e.g. ``stepUpToken`` in the sign body); it is
    no access token and works for its purpose only."""
    method: Method
    verified_at: str
    expires_at: str


# internal: the wire models are declared in mindlinks_fleet.internal.auth ----


def user_record(user: User) -> UserRecord:
    return UserRecord.model_validate(user, from_attributes=True)


def account_record(user: User) -> AccountRecord:
    return AccountRecord(**user_record(user).model_dump(), created_at=user.created_at)
