"""A password login attempt, the same for the web form and for uploads by email and password.

The rate limits count failed attempts from the audit trail, so a failure is recorded before
it is reported, and the caller commits its transaction whatever the outcome.

A right password for an account with two-factor login on does not log anyone in: the
attempt names the account as ``second_factor`` and leaves ``user`` empty, so a caller that
knows nothing of two factors (password uploads) refuses it like a wrong password.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from wheelyard.data.user import User
from wheelyard.services import audit, clock
from wheelyard.services.accounts import rate_limit, two_factor, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin


@dataclass(frozen=True)
class LoginAttempt:
    """Who logged in, who still owes a second factor, or why neither: a limit, or no match."""

    user: User | None = None
    limit: rate_limit.Throttle | None = None
    second_factor: User | None = None


def attempt_login(
    db: Session, passwords: Passwords, *, email: str, password: str, origin: Origin
) -> LoginAttempt:
    email = users.normalize_email(email)
    known = users.find_user_by_email(db, email)
    limit = rate_limit.login_limit_reached(
        db, email=email, ip_address=origin.ip_address, user_id=known.id if known else None
    )
    if limit is not None:
        # Refused before the password is checked: a guess made now proves nothing.
        return LoginAttempt(limit=limit)
    user = users.check_password(db, passwords, email, password)
    if user is None:
        audit.record(
            db,
            audit.Action.LOGIN_FAILED,
            origin=origin,
            user_id=known.id if known else None,
            detail=email,  # the per-address limit counts by the address typed in
        )
        return LoginAttempt()
    if two_factor.is_enabled(user):
        return LoginAttempt(second_factor=user)
    user.last_login = clock.now()
    return LoginAttempt(user=user)
