"""Throttling of failed logins and of sign-ups, counted from the audit trail.

The counts live in the database, not in a worker's memory: every worker and every node
sees the same numbers, and a restart does not hand an attacker a fresh allowance. The audit
rows are written anyway, so this costs one COUNT per attempt and no extra table.

Failed logins are limited twice: per address typed in (whether or not an account has it,
so a 429 never tells which addresses exist) and per client IP (one source trying many
addresses). A successful login clears the per-address count.

Every time compared here comes from the database's own clock (rows get ``created_date``
from it), so a skew between the application's clock and the database's cannot widen or
close the window.
"""

from __future__ import annotations

import datetime as dt
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
        return int(self.window.total_seconds())


# Generous enough for a person who mistypes, far too few for guessing a password.
FAILED_LOGINS_PER_ADDRESS = Limit(attempts=10, window=dt.timedelta(minutes=15))
# Higher: an office or a CI fleet shares one IP behind NAT.
FAILED_LOGINS_PER_IP = Limit(attempts=30, window=dt.timedelta(minutes=15))
REGISTRATIONS_PER_IP = Limit(attempts=10, window=dt.timedelta(hours=1))


def _database_now(db: Session) -> dt.datetime:
    now = db.scalar(sa.select(utcnow()))
    if not isinstance(now, dt.datetime):
        raise TypeError(f"the database clock answered {now!r}")
    return now


def _count(db: Session, *conditions: sa.ColumnElement[bool]) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*conditions)) or 0


def login_limit_reached(
    db: Session, *, email: str, ip_address: str | None, user_id: int | None
) -> Limit | None:
    """The limit a new login attempt would exceed, or None when it may go ahead.

    ``email`` is the normalized address typed in, as the failed-login rows record it;
    ``user_id`` the account that has it, if any, whose last successful login resets the
    per-address count.
    """
    now = _database_now(db)
    address = FAILED_LOGINS_PER_ADDRESS
    failed = AuditEvent.action == Action.LOGIN_FAILED
    since_success: list[sa.ColumnElement[bool]] = []
    if user_id is not None:
        last_login_id = db.scalar(
            sa.select(sa.func.max(AuditEvent.id)).where(
                AuditEvent.action == Action.LOGIN, AuditEvent.user_id == user_id
            )
        )
        if last_login_id is not None:
            since_success.append(AuditEvent.id > last_login_id)
    by_address = _count(
        db,
        failed,
        AuditEvent.created_date >= now - address.window,
        AuditEvent.detail == email,
        *since_success,
    )
    if by_address >= address.attempts:
        return address
    if ip_address is None:
        return None
    per_ip = FAILED_LOGINS_PER_IP
    by_ip = _count(
        db,
        failed,
        AuditEvent.created_date >= now - per_ip.window,
        AuditEvent.ip_address == ip_address,
    )
    return per_ip if by_ip >= per_ip.attempts else None


def registration_limit_reached(db: Session, *, ip_address: str | None) -> Limit | None:
    """The limit a new sign-up from ``ip_address`` would exceed, or None."""
    if ip_address is None:
        return None
    limit = REGISTRATIONS_PER_IP
    count = _count(
        db,
        AuditEvent.action == Action.REGISTER,
        AuditEvent.created_date >= _database_now(db) - limit.window,
        AuditEvent.ip_address == ip_address,
    )
    return limit if count >= limit.attempts else None
