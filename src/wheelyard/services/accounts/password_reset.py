"""Password reset by an emailed link: random, single use, expiring, stored only as a hash.

Asking for a link answers the same whether or not an account has the address: the caller
shows one message either way and sends the email (if any) after answering, so neither the
words nor the time taken tell which addresses exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.password_reset import PasswordReset
from wheelyard.data.user import User
from wheelyard.services import audit, clock
from wheelyard.services.accounts import mail, rate_limit, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ResetRequest:
    """The outcome of asking for a link: a limit reached, or (for a real account) a token."""

    limit: rate_limit.Limit | None = None
    user: User | None = None
    token: str | None = None


def request_reset(db: Session, *, email: str, origin: Origin, minutes: int) -> ResetRequest:
    """Make a reset token for the active account with ``email``, if there is one.

    Every request that is not throttled leaves an audit row with the address typed in: the
    limits count them, known address or not.
    """
    email = users.normalize_email(email)
    limit = rate_limit.reset_limit_reached(db, email=email, ip_address=origin.ip_address)
    if limit is not None:
        return ResetRequest(limit=limit)
    user = users.find_user_by_email(db, email)
    audit.record(
        db,
        audit.Action.PASSWORD_RESET_REQUESTED,
        origin=origin,
        user_id=user.id if user else None,
        detail=email,
    )
    if user is None or not user.is_active:
        return ResetRequest()
    return ResetRequest(user=user, token=issue(db, user, minutes))


def issue(db: Session, user: User, minutes: int) -> str:
    """A new token for ``user``; any link sent before stops working."""
    db.execute(sa.delete(PasswordReset).where(PasswordReset.user_id == user.id))
    token = secrets.token_urlsafe(32)
    expires = clock.now() + dt.timedelta(minutes=minutes)
    db.add(PasswordReset(user_id=user.id, hashed_token=_hash(token), expires=expires))
    db.flush()
    return token


def find_valid(db: Session, token: str) -> PasswordReset | None:
    """The unexpired, unused reset the token stands for, if any."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return db.scalar(
        sa.select(PasswordReset).where(
            PasswordReset.hashed_token == _hash(token), PasswordReset.expires > clock.now()
        )
    )


def redeem(
    db: Session, passwords: Passwords, token: str, new_password: str, *, origin: Origin
) -> User | None:
    """Set the account's new password with a valid token; None when the token is not valid.

    Like any password change, this ends every session of the account and every other link.
    """
    reset = find_valid(db, token)
    if reset is None:
        return None
    user = users.active_user(db, reset.user_id)
    if user is None:
        db.delete(reset)
        return None
    users.change_password(db, passwords, user, new_password)
    # The link was mailed to the account's address: following it proves the address too.
    user.email_verified = True
    audit.record(db, audit.Action.PASSWORD_RESET, origin=origin, user_id=user.id)
    return user


def reset_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/account/reset/{token}"


def reset_email(
    server: mail.SmtpServer, *, to: str, url: str, minutes: int, site_name: str
) -> EmailMessage:
    body = (
        f"Someone, probably you, asked to reset the password of your {site_name} account.\n"
        f"\n"
        f"Choose a new password here:\n"
        f"\n"
        f"    {url}\n"
        f"\n"
        f"The link works once, for {minutes} minutes. Setting a new password logs you out\n"
        f"everywhere.\n"
        f"\n"
        f"If you did not ask for this, ignore this email: your password stays as it is.\n"
    )
    return mail.compose(server, to, f"Reset your {site_name} password", body)
