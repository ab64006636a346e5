"""People and their passwords: creating accounts, checking passwords, reset tokens.

No Flask here: the views, the CLI and the tests call these with a session and config.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.db import now_utc
from lms.models import Membership, Role, User, new_token
from lms.people import throttle

RESET_SALT = "lms.password-reset"


class EmailTakenError(ValueError):
    """An account with this email exists already."""


def normalise_email(email: str) -> str:
    """Emails are compared without surrounding spaces or case."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default)."""
    return generate_password_hash(password)


@cache
def _dummy_hash() -> str:
    return hash_password("not a password of anyone's")


def find_user(session: Session, email: str) -> User | None:
    """The account with this email, or None."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def check_password(user: User | None, password: str) -> bool:
    """True if the password is the user's; an unknown user costs the same one hash."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(user.password_hash, password)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or None; how long to wait when blocked."""

    user: User | None
    retry_after: int = 0


def sign_in(
    session: Session, config: Mapping[str, Any], email: str, password: str, address: str | None
) -> SignIn:
    """Check a password under the throttle: count a failure, forget the failures on success.

    While the account or the address is blocked nothing is checked, so guessing on
    learns nothing. A disabled account fails like a wrong password.

    The hash costs a tenth of a second by design, so it runs between transactions: on
    SQLite a write transaction holds the one write lock every other request waits for.
    The session's earlier reads are committed (nothing was written), and the account is
    read again afterwards, so a change made meanwhile still counts.
    """
    keys = [throttle.account_key(email), throttle.address_key(address)]
    wait = throttle.retry_after(session, keys)
    if wait:
        return SignIn(None, wait)
    user = find_user(session, email)
    checked_hash = user.password_hash if user is not None else None
    session.commit()
    if check_password(user, password) and user is not None:
        session.refresh(user)
        if user.is_active and user.password_hash == checked_hash:
            throttle.clear(session, keys[:1])
            return SignIn(user)
    throttle.record_attempt(session, config, keys)
    return SignIn(None)


def create_user(
    session: Session, email: str, display_name: str, password: str, role: Role = Role.LEARNER
) -> User:
    """Add an account; raises EmailTakenError when the email has one already."""
    email = normalise_email(email)
    password_hash = hash_password(password)  # before the first query: no lock held meanwhile
    if find_user(session, email) is not None:
        raise EmailTakenError(email)
    user = User(
        email=email, display_name=display_name.strip(), password_hash=password_hash, role=role
    )
    # Two sign-ups with one email at once both pass the check above on PostgreSQL;
    # the unique index decides, and the loser hears the same answer as above.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise EmailTakenError(email) from None
    return user


def end_sessions(session: Session, user: User) -> None:
    """End everything that stands in for this account's sign-in, on every device.

    The session token (every session and remember cookie) and the calendar token of each
    of its memberships (feed URLs work without signing in, so they end with the rest).
    """
    user.rotate_session_token()
    for membership in session.scalars(select(Membership).where(Membership.user_id == user.id)):
        membership.calendar_token = new_token()
    session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end every session, feed and reset link of the account."""
    user.password_hash = hash_password(password)
    end_sessions(session, user)


def disable(session: Session, user: User) -> None:
    """Disable the account: it can no longer sign in, and its sessions and feeds end now."""
    user.disabled_at = now_utc()
    end_sessions(session, user)


def enable(user: User) -> None:
    """Let a disabled account sign in again."""
    user.disabled_at = None


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=RESET_SALT)


def _password_fingerprint(secret_key: str, user: User) -> str:
    # Binds a reset token to the current password: any change of it kills the token.
    digest = hmac.new(secret_key.encode(), user.password_hash.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def make_reset_token(config: Mapping[str, Any], user: User) -> str:
    """A signed, expiring token that works once: using it changes the password it is bound to."""
    secret = config["SECRET_KEY"]
    return _serializer(secret).dumps([user.id, _password_fingerprint(secret, user)])


def user_for_reset_token(config: Mapping[str, Any], session: Session, token: str) -> User | None:
    """The active user a valid, unexpired, unused token belongs to, or None."""
    secret = config["SECRET_KEY"]
    try:
        user_id, fingerprint = _serializer(secret).loads(
            token, max_age=config["LMS_PASSWORD_RESET_MAX_AGE"]
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int):
        return None
    # Locked, so that two uses of one link at once cannot both pass the check below.
    user = session.get(User, user_id, with_for_update=True)
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(str(fingerprint), _password_fingerprint(secret, user)):
        return None
    return user
