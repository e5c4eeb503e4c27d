"""Auth's rules, without I/O."""

from __future__ import annotations

import time

import pytest

from mindlinks_auth.domain import (
    AccountSuspended,
    InvalidCredentials,
    InvalidEmail,
    Session,
    User,
    WeakPassword,
    check_can_sign_in,
    check_password,
    lookup_email,
    new_user,
    normalize_email,
    password_problems,
)
from mindlinks_auth.keys import SigningKey, retained, signing_key
from mindlinks_auth.mfa import code_matches
from mindlinks_auth.tokens import family_of
from mindlinks_kit.clock import now_iso

EMAIL, NAME = "ada.lovelace@example.com", "Ada Lovelace"


@pytest.mark.parametrize(
    "password",
    [
        "violet-Staple-Orbit-88",
        "correct horse battery staple 7",
        "Zx9#mP2$wQ7!",
        "ÄÖÜ-lange-Passphrase-mit-Umlauten",
    ],
)
def test_acceptable_passwords(password: str) -> None:
    assert password_problems(password, email=EMAIL, name=NAME) == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Short-1", "at least 12"),
        ("x" * 257, "at most"),
        ("onlylowercaseletters", "two of"),
        ("ONLYUPPERCASELETTERS", "two of"),
        ("123456789012", "two of"),
        ("aaaaaaaaaaa1", "different characters"),
        ("Password2024!", "too common"),
        ("P@ssw0rd-P@ssw0rd", "too common"),
        ("Qwertyuiop12", "too common"),
        ("abcdefghijklm", "too common"),
        ("Lovelace-Rules-1", "name or email"),
        ("my-ada.lovelace-9", "name or email"),
    ],
)
def test_weak_passwords(password: str, reason: str) -> None:
    problems = password_problems(password, email=EMAIL, name=NAME)
    assert any(reason in problem for problem in problems), problems


def test_check_password_raises_a_problem_per_field() -> None:
    with pytest.raises(WeakPassword) as raised:
        check_password("password", email=EMAIL, name=NAME)
    body = raised.value.body()
    assert body["status"] == 422
    assert body["code"] == "weak-password"
    assert body["errors"][0]["location"] == ["body", "password"]


def test_emails_are_normalized() -> None:
    assert normalize_email("  Ada.Lovelace@EXAMPLE.com ") == "ada.lovelace@example.com"
    assert lookup_email(" Ada@Example.COM ") == "ada@example.com"
    for bad in ("no-at-sign", "a@b", "a@localhost", "a@@example.com", "a@example.test"):
        with pytest.raises(InvalidEmail):
            normalize_email(bad)
    assert issubclass(InvalidEmail, ValueError)  # reported per field by validation


def test_who_may_sign_in() -> None:
    user = new_user(email=EMAIL, name=NAME, role="client", password_hash="x")
    with pytest.raises(InvalidCredentials):  # as a wrong password: no oracle
        check_can_sign_in(user)
    verified = User(**{**user.__dict__, "email_verified": True})
    check_can_sign_in(verified)
    with pytest.raises(AccountSuspended):
        check_can_sign_in(User(**{**verified.__dict__, "status": "suspended"}))


def test_session_validity() -> None:
    user = User(
        id="u1",
        email=EMAIL,
        name=NAME,
        role="client",
        password_hash="x",
        created_at=now_iso(),
        email_verified=True,
        token_epoch=2,
    )
    now = time.time()
    session = Session(
        id="s",
        user_id="u1",
        created_at=now_iso(),
        expires_at=int(now) + 60,
        ip="1.2.3.4",
        user_agent="ua",
        token_epoch=2,
    )
    day = 24 * 3600
    assert session.valid_for(user, now, day)
    assert not session.valid_for(User(**{**user.__dict__, "token_epoch": 3}), now, day)
    assert not session.valid_for(User(**{**user.__dict__, "status": "suspended"}), now, day)
    assert not session.valid_for(User(**{**user.__dict__, "id": "u2"}), now, day)
    assert not session.valid_for(user, now + 120, day)  # expired
    assert not session.valid_for(user, now + 30, 10)  # past its absolute lifetime
    revoked = Session(**{**session.__dict__, "status": "revoked"})
    assert not revoked.valid_for(user, now, day)


def test_a_new_key_signs_only_once_it_is_activated() -> None:
    def key(kid: str, created: float) -> SigningKey:
        return SigningKey(kid=kid, private=None, created_at=created)  # type: ignore[arg-type]

    now = 10_000.0
    keys = [key("new", now - 10), key("old", now - 5000)]
    assert signing_key(keys, now, activation_seconds=60).kid == "old"
    assert signing_key(keys, now + 50, activation_seconds=60).kid == "new"
    assert signing_key(keys, now, activation_seconds=0).kid == "new"
    # A brand-new environment has one key: it signs at once.
    assert signing_key([key("first", now)], now, activation_seconds=60).kid == "first"
    # The old key stays published until tokens it signs after the new key's
    # activation have expired.
    assert [k.kid for k in retained(keys, now + 50 + 959, 960, activation_seconds=60)] == [
        "new",
        "old",
    ]
    assert [k.kid for k in retained(keys, now + 50 + 961, 960, activation_seconds=60)] == ["new"]


def test_superseded_keys_stay_published_for_the_grace_period() -> None:
    def key(kid: str, created: float) -> SigningKey:
        return SigningKey(kid=kid, private=None, created_at=created)  # type: ignore[arg-type]

    now = 10_000.0
    keys = [key("d", now), key("c", now - 100), key("b", now - 2000), key("a", now - 5000)]
    # c was superseded just now (by d); b 100 s ago (by c); a long ago (by b).
    assert [k.kid for k in retained(keys, now, grace_seconds=960)] == ["d", "c", "b"]
    assert [k.kid for k in retained(keys, now, grace_seconds=50)] == ["d", "c"]
    many = [key(str(i), now - i) for i in range(10)]
    assert len(retained(many, now, grace_seconds=960)) == 5


def test_refresh_tokens_name_their_family() -> None:
    family = "0123456789abcdef0123456789abcdef"
    assert family_of(f"{family}.secret") == family
    for bad in ("secret", f"{family}.", ".secret", "XYZ.secret", f"{family}x.secret"):
        assert family_of(bad) is None


def test_codes_must_be_six_digits() -> None:
    assert not code_matches("JBSWY3DPEHPK3PXP", None)
    assert not code_matches("JBSWY3DPEHPK3PXP", "12345a")
    assert not code_matches("JBSWY3DPEHPK3PXP", "1234567")
