"""Accounts: creation, lookup, password login and password changes, and their sessions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wheelyard.data.password_reset import PasswordReset
from wheelyard.data.user import User
from wheelyard.services import clock
from wheelyard.services.accounts.passwords import Passwords


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(
    db: Session,
    passwords: Passwords,
    *,
    name: str,
    email: str,
    password: str | None,
    email_verified: bool,
    is_admin: bool = False,
) -> User:
    """Create an account. Without a password the account exists but cannot log in.

    ``email_verified``: whether the address is known to be the account's (an operator
    vouches for it, or there is no mail server to check it with).
    """
    if find_user_by_email(db, email) is not None:
        raise AccountError("An account with this email address already exists.")
    user = User(
        name=name.strip(),
        email=normalize_email(email),
        hashed_password=passwords.hash(password) if password else None,
        is_admin=is_admin,
        email_verified=email_verified,
    )
    try:
        # A savepoint: losing a race for the address must not spoil the caller's transaction.
        with db.begin_nested():
            db.add(user)
    except IntegrityError as error:
        raise AccountError("An account with this email address already exists.") from error
    return user


def set_password(user: User, passwords: Passwords, password: str) -> None:
    user.hashed_password = passwords.hash(password)


def change_password(db: Session, passwords: Passwords, user: User, password: str) -> None:
    """A new password: every session of the account ends and no reset link still works.

    The caller issues the session it wants to keep afresh (web.session.log_in).
    """
    set_password(user, passwords, password)
    end_sessions(user)
    db.execute(sa.delete(PasswordReset).where(PasswordReset.user_id == user.id))


def new_session_generation() -> str:
    return secrets.token_urlsafe(16)


def end_sessions(user: User) -> None:
    """Make every session issued so far for the account stale, on every device."""
    user.session_generation = new_session_generation()


def session_generation_of(user: User) -> str:
    """The value a new session for the account carries, made on the account's first one."""
    if user.session_generation is None:
        user.session_generation = new_session_generation()
    return user.session_generation


def session_holder(db: Session, user_id: int, generation: object) -> User | None:
    """The account a session names, if it still exists, may act, and the session is current."""
    user = active_user(db, user_id)
    if user is None or user.session_generation is None or not isinstance(generation, str):
        return None
    return user if secrets.compare_digest(user.session_generation, generation) else None


def check_password(db: Session, passwords: Passwords, email: str, password: str) -> User | None:
    """The active user whose email and password match, otherwise None.

    An unknown address costs one password hash too, so the time taken does not tell it from
    a wrong password. A hash made with weaker parameters than today's is replaced.
    """
    user = find_user_by_email(db, email)
    result = passwords.verify(user.hashed_password if user else None, password)
    if user is None or not result.ok or not user.is_active:
        return None
    if result.new_hash:
        user.hashed_password = result.new_hash
    return user


def authenticate(db: Session, passwords: Passwords, email: str, password: str) -> User | None:
    """The user whose email and password match, with last_login set; otherwise None.

    The caller cannot tell an unknown email from a wrong password, by design.
    """
    user = check_password(db, passwords, email, password)
    if user is not None:
        user.last_login = clock.now()
    return user


# Field bounds: the column widths, and a password cap so hashing cost stays bounded.
MAX_DISPLAY_NAME_LENGTH = 200  # the name a person is shown by; accounts log in by email
MAX_EMAIL_LENGTH = 320
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def active_user(db: Session, user_id: int) -> User | None:
    """The account a session names, if it still exists and may act."""
    user = db.get(User, user_id)
    return user if user is not None and user.is_active else None


def names_by_id(db: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names for a set of account ids (e.g. the actors of audit rows), in one query."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    query = sa.select(User.id, User.name).where(User.id.in_(wanted))
    return dict(db.execute(query).all())
