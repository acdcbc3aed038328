"""Throttling of guesses (passwords, two-factor codes), sign-ups and reset and verification
emails.

The counts come from the audit trail, not a worker's memory: every worker and every node
sees the same numbers, and a restart does not hand an attacker a fresh allowance. The audit
rows are written anyway, so this costs a COUNT or two per attempt and no extra table.

Guesses are limited twice: per target (the address typed in, whether or not an account has
it, so a 429 never tells which addresses exist; or the account, for codes) and per client IP
(one source trying many targets). A successful login clears the per-target counts.

For password logins the per-IP limit is the hard stop. The per-address one is a backoff, not
a lock: were it a lock, anyone could keep someone else out of their account by failing ten
times against their address every five minutes, from addresses of their own. Past the free
failures, a client that has itself failed on the address waits a little longer after each
new failure (capped); a client that has not (the owner, signing in from their own machine)
is never held back by failures it did not make. An attacker rotating addresses still
meets the per-IP limit on every one of them.

Every time compared here comes from the database's own clock (rows get ``created_date``
from it), so a skew between the application's clock and the database's cannot widen or
close the window.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.audit import AuditEvent
from wheelyard.data.modelbase import utcnow
from wheelyard.services.audit import Action


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: dt.timedelta

    @property
    def retry_after_seconds(self) -> int:
        # The whole window: by then every counted row has left it, whatever their spacing.
        return int(self.window.total_seconds())


@dataclass(frozen=True)
class Backoff:
    """A short wait before the next guess counts: how the per-address login limit slows."""

    retry_after_seconds: int


# What a refused attempt is told: a limit's whole window, or a backoff's wait.
Throttle = Limit | Backoff

_FIVE_MINUTES = dt.timedelta(minutes=5)
_HOUR = dt.timedelta(hours=1)

# Enough for a person who mistypes, far too few for guessing a password. Per address, the
# failures up to `attempts` are free; each one past them makes a client that failed on the
# address too wait LOGIN_BACKOFF_STEP more after the newest failure, up to LOGIN_BACKOFF_MAX.
FAILED_LOGINS_PER_ADDRESS = Limit(attempts=10, window=_FIVE_MINUTES)
FAILED_LOGINS_PER_IP = Limit(attempts=10, window=_FIVE_MINUTES)
LOGIN_BACKOFF_STEP = dt.timedelta(seconds=2)
LOGIN_BACKOFF_MAX = dt.timedelta(seconds=60)
# Sign-ups refused because the address has an account: probing for which addresses do.
FAILED_REGISTRATIONS_PER_ADDRESS = Limit(attempts=10, window=_FIVE_MINUTES)
FAILED_REGISTRATIONS_PER_IP = Limit(attempts=10, window=_FIVE_MINUTES)
REGISTRATIONS_PER_IP = Limit(attempts=10, window=_HOUR)
# A six-digit code falls to about a million guesses; this allows a few thousand a day.
FAILED_CODES_PER_ACCOUNT = Limit(attempts=10, window=_FIVE_MINUTES)
FAILED_CODES_PER_IP = Limit(attempts=10, window=_FIVE_MINUTES)
# Every request may send an email: few per inbox, so nobody can flood one.
RESETS_PER_ADDRESS = Limit(attempts=3, window=_HOUR)
RESETS_PER_IP = Limit(attempts=20, window=_HOUR)
VERIFICATIONS_PER_ADDRESS = Limit(attempts=3, window=_HOUR)
VERIFICATIONS_PER_IP = Limit(attempts=20, window=_HOUR)


def _database_now(db: Session) -> dt.datetime:
    now = db.scalar(sa.select(utcnow()))
    if not isinstance(now, dt.datetime):
        raise TypeError(f"the database clock answered {now!r}")
    return now


def _reached(
    db: Session, limit: Limit, now: dt.datetime, *conditions: sa.ColumnElement[bool]
) -> bool:
    query = (
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.created_date >= now - limit.window, *conditions)
    )
    return (db.scalar(query) or 0) >= limit.attempts


def _since_last_login(db: Session, user_id: int | None) -> list[sa.ColumnElement[bool]]:
    """A condition keeping only rows after the account's last successful login, if any."""
    if user_id is None:
        return []
    last_login_id = db.scalar(
        sa.select(sa.func.max(AuditEvent.id)).where(
            AuditEvent.action == Action.LOGIN, AuditEvent.user_id == user_id
        )
    )
    return [] if last_login_id is None else [AuditEvent.id > last_login_id]


def login_limit_reached(
    db: Session, *, email: str, ip_address: str | None, user_id: int | None
) -> Throttle | None:
    """What holds a new login attempt back (a limit, or a backoff), or None when it may go
    ahead.

    ``email`` is the normalized address typed in, as the failed-login rows record it;
    ``user_id`` the account that has it, if any, whose last successful login resets the
    per-address count.
    """
    now = _database_now(db)
    failed = AuditEvent.action == Action.LOGIN_FAILED
    address = FAILED_LOGINS_PER_ADDRESS
    on_address = [failed, AuditEvent.detail == email, *_since_last_login(db, user_id)]
    if ip_address is None:
        # No client address to tell the owner from a guesser by: the address's own count
        # is all there is, so it stops guesses outright.
        return address if _reached(db, address, now, *on_address) else None
    per_ip = FAILED_LOGINS_PER_IP
    if _reached(db, per_ip, now, failed, _from(ip_address)):
        return per_ip
    return _login_backoff(db, now, on_address, ip_address)


def _login_backoff(
    db: Session, now: dt.datetime, on_address: list[sa.ColumnElement[bool]], ip_address: str
) -> Backoff | None:
    """The wait for a client that has failed on this address, once the free failures are
    spent; None for a client that has not, or when the wait is over."""
    window = AuditEvent.created_date >= now - FAILED_LOGINS_PER_ADDRESS.window
    count, newest = db.execute(
        sa.select(sa.func.count(), sa.func.max(AuditEvent.created_date)).where(window, *on_address)
    ).one()
    beyond = (count or 0) - FAILED_LOGINS_PER_ADDRESS.attempts + 1
    if beyond <= 0 or newest is None:
        return None
    tried_here = db.scalar(sa.select(sa.func.count()).where(window, *on_address, _from(ip_address)))
    if not tried_here:
        return None
    wait = min(LOGIN_BACKOFF_MAX, LOGIN_BACKOFF_STEP * beyond) - (now - newest)
    if wait <= dt.timedelta(0):
        return None
    return Backoff(retry_after_seconds=math.ceil(wait.total_seconds()))


def registration_limit_reached(
    db: Session, *, ip_address: str | None, email: str | None = None
) -> Limit | None:
    """The limit a new sign-up would exceed, or None.

    Sign-ups from one IP are limited in number; refused ones (an address already in use)
    per IP and per normalized address, as failed logins are.
    """
    now = _database_now(db)
    failed = AuditEvent.action == Action.REGISTER_FAILED
    if email is not None and _reached(
        db, FAILED_REGISTRATIONS_PER_ADDRESS, now, failed, AuditEvent.detail == email
    ):
        return FAILED_REGISTRATIONS_PER_ADDRESS
    if ip_address is None:
        return None
    if _reached(db, FAILED_REGISTRATIONS_PER_IP, now, failed, _from(ip_address)):
        return FAILED_REGISTRATIONS_PER_IP
    registered = AuditEvent.action == Action.REGISTER
    if _reached(db, REGISTRATIONS_PER_IP, now, registered, _from(ip_address)):
        return REGISTRATIONS_PER_IP
    return None


def two_factor_limit_reached(db: Session, *, user_id: int, ip_address: str | None) -> Limit | None:
    """The limit another two-factor code for this account would exceed, or None."""
    now = _database_now(db)
    failed = AuditEvent.action == Action.TWO_FACTOR_FAILED
    account = FAILED_CODES_PER_ACCOUNT
    if _reached(
        db, account, now, failed, AuditEvent.user_id == user_id, *_since_last_login(db, user_id)
    ):
        return account
    per_ip = FAILED_CODES_PER_IP
    if ip_address is not None and _reached(db, per_ip, now, failed, _from(ip_address)):
        return per_ip
    return None


def reset_limit_reached(db: Session, *, email: str, ip_address: str | None) -> Limit | None:
    """The limit another reset email for ``email`` (normalized) would exceed, or None.

    Counted by the address typed in, known or not, so the answer is the same for both.
    """
    now = _database_now(db)
    requested = AuditEvent.action == Action.PASSWORD_RESET_REQUESTED
    if _reached(db, RESETS_PER_ADDRESS, now, requested, AuditEvent.detail == email):
        return RESETS_PER_ADDRESS
    if ip_address is not None and _reached(db, RESETS_PER_IP, now, requested, _from(ip_address)):
        return RESETS_PER_IP
    return None


def verification_limit_reached(db: Session, *, email: str, ip_address: str | None) -> Limit | None:
    """The limit another verification email to ``email`` would exceed, or None."""
    now = _database_now(db)
    sent = AuditEvent.action == Action.EMAIL_VERIFICATION_SENT
    if _reached(db, VERIFICATIONS_PER_ADDRESS, now, sent, AuditEvent.detail == email):
        return VERIFICATIONS_PER_ADDRESS
    if ip_address is not None and _reached(db, VERIFICATIONS_PER_IP, now, sent, _from(ip_address)):
        return VERIFICATIONS_PER_IP
    return None


def _from(ip_address: str) -> sa.ColumnElement[bool]:
    return AuditEvent.ip_address == ip_address
