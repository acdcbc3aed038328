"""Accounts: creation, lookup and password login."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wheelyard.data.user import User
from wheelyard.services.passwords import Passwords


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
    is_admin: bool = False,
) -> User:
    """Create an account. Without a password the account exists but cannot log in."""
    if find_user_by_email(db, email) is not None:
        raise AccountError("An account with this email address already exists.")
    user = User(
        name=name.strip(),
        email=normalize_email(email),
        hashed_password=passwords.hash(password) if password else None,
        is_admin=is_admin,
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


def authenticate(db: Session, passwords: Passwords, email: str, password: str) -> User | None:
    """The user whose email and password match, with last_login set; otherwise None.

    The caller cannot tell an unknown email from a wrong password, by design.
    """
    user = find_user_by_email(db, email)
    result = passwords.verify(user.hashed_password if user else None, password)
    if user is None or not result.ok or not user.is_active:
        return None
    if result.new_hash:
        user.hashed_password = result.new_hash
    user.last_login = utcnow()
    return user


def utcnow() -> dt.datetime:
    """Naive UTC, the convention of every timestamp column."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# Field bounds: the column widths, and a password cap so hashing cost stays bounded.
MAX_NAME_LENGTH = 200
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
